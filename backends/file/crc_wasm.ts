/**
 * The CRC-16 loop of crc.ts as a tiny WebAssembly module (no bounds checks on
 * its table and data loads: about 30% faster than the JavaScript loop on V8
 * and JavaScriptCore). The module is assembled here, at load time, from the
 * instructions below, so nothing opaque is shipped. It exports
 * `crc(pointer, length, crc) -> crc` and its memory, whose first 8 KiB hold the
 * sixteen tables (little-endian u16) and the rest the bytes to checksum.
 *
 * @module
 */

/** Where the bytes to checksum start in the module's memory (after the tables). */
export const WASM_DATA = 8192;

/** The module's exports. */
export interface CrcModule {
  /** The CRC of `length` bytes at `pointer`, continuing `crc`. */
  crc(pointer: number, length: number, crc: number): number;
  /** Its memory (grow it to hold more data; views must be made again afterwards). */
  memory: WebAssembly.Memory;
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** The module's bytes. */
function assemble(): Uint8Array {
  // Locals: 0 pointer, 1 length, 2 crc (parameters); 3 end, 4 end of the 16-byte blocks.
  const [P, N, C, END, END16] = [0, 1, 2, 3, 4];
  const get = (local: number) => [0x20, local];
  const set = (local: number) => [0x21, local];
  const i32 = (value: number) => [0x41, ...sleb(value)];
  const load8 = (offset: number) => [0x2d, 0x00, ...uleb(offset)]; // i32.load8_u
  const load16 = (offset: number) => [0x2f, 0x01, ...uleb(offset)]; // i32.load16_u
  const [ADD, AND, XOR, SHL, SHR_U, LT_U, EQZ] = [0x6a, 0x71, 0x73, 0x74, 0x76, 0x49, 0x45];
  const [BLOCK, LOOP, BR, BR_IF, END_OP, VOID] = [0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];
  /** TABLE[k][index] where index is on the stack: load16 at k * 512 + index * 2. */
  const table = (k: number) => [...i32(1), SHL, ...load16(k * 512)];

  const body: number[] = [0x01, 0x02, 0x7f]; // two more i32 locals
  body.push(...get(P), ...get(N), ADD, ...set(END));
  body.push(...get(P), ...get(N), ...i32(~15), AND, ADD, ...set(END16));
  // while (p < end16): fold 16 bytes with 16 lookups.
  body.push(BLOCK, VOID, LOOP, VOID);
  body.push(...get(P), ...get(END16), LT_U, EQZ, BR_IF, 1);
  body.push(...get(C), ...i32(8), SHR_U, ...get(P), ...load8(0), XOR, ...table(15));
  body.push(...get(C), ...i32(255), AND, ...get(P), ...load8(1), XOR, ...table(14), XOR);
  for (let j = 2; j < 16; j++) body.push(...get(P), ...load8(j), ...table(15 - j), XOR);
  body.push(...set(C), ...get(P), ...i32(16), ADD, ...set(P), BR, 0, END_OP, END_OP);
  // while (p < end): one byte at a time.
  body.push(BLOCK, VOID, LOOP, VOID);
  body.push(...get(P), ...get(END), LT_U, EQZ, BR_IF, 1);
  body.push(...get(C), ...i32(8), SHR_U, ...get(P), ...load8(0), XOR, ...table(0));
  body.push(...get(C), ...i32(8), SHL, XOR, ...i32(0xffff), AND, ...set(C));
  body.push(...get(P), ...i32(1), ADD, ...set(P), BR, 0, END_OP, END_OP);
  body.push(...get(C), END_OP);

  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (
    text: string,
  ) => [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]), // type: (i32, i32, i32) -> i32
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0x00, 1]), // one memory, one page to start
    ...section(7, [2, ...name("crc"), 0x00, 0, ...name("memory"), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * A fresh instance of the module with `tables` (4096 u16: 16 tables of 256)
 * in its memory, or `undefined` where WebAssembly is not available.
 */
export function instantiateCrc(tables: Uint16Array): CrcModule | undefined {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(assemble() as Uint8Array<ArrayBuffer>);
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return undefined;
  const instance = new WebAssembly.Instance(compiled, {});
  const exports = instance.exports as unknown as CrcModule;
  const view = new DataView(exports.memory.buffer);
  for (let i = 0; i < tables.length; i++) view.setUint16(i * 2, tables[i], true);
  return exports;
}
