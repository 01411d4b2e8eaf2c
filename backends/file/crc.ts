/**
 * CRC-16/CDMA2000 (poly 0xC867, init 0xFFFF, no reflection, no final xor): the
 * checksum SeaStreamer stores after every payload.
 *
 * A byte-at-a-time table CRC runs at a few hundred MB/s in JavaScript, which
 * would bound the file backend; this one is "sliced by 16": sixteen tables, so
 * each step folds sixteen bytes with sixteen independent lookups (about 4x faster).
 *
 * @module
 */
import { type CrcModule, instantiateCrc, WASM_DATA } from "./crc_wasm.ts";

const POLY = 0xc867;
const SLICES = 16;

/** TABLES[k * 256 + x]: the CRC contribution of byte `x` followed by `k` zero bytes. */
const TABLES: Uint16Array = (() => {
  const tables = new Uint16Array(256 * SLICES);
  for (let x = 0; x < 256; x++) {
    let crc = x << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ POLY : crc << 1;
    tables[x] = crc & 0xffff;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let x = 0; x < 256; x++) {
      const previous = tables[(k - 1) * 256 + x];
      tables[k * 256 + x] = (tables[previous >> 8] ^ (previous << 8)) & 0xffff;
    }
  }
  return tables;
})();

/** The initial value of a CRC-16/CDMA2000 (and of SeaStreamer's running checksums). */
export const CRC_INIT = 0xffff;

/**
 * Continue the CRC `crc` over `bytes[start, end)`.
 *
 * @example
 * ```ts
 * import { crcUpdate } from "@seastreamer/seastreamer/file";
 *
 * const bytes = new TextEncoder().encode("123456789");
 * console.log(crcUpdate(crcUpdate(0xffff, bytes, 0, 4), bytes, 4, 9).toString(16)); // 4c06
 * ```
 */
export function crcUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let i = start;
  const sliced = end - ((end - start) & 15);
  for (; i < sliced; i += 16) {
    crc = t[3840 + ((crc >> 8) ^ bytes[i])] ^ t[3584 + ((crc & 0xff) ^ bytes[i + 1])] ^
      t[3328 + bytes[i + 2]] ^ t[3072 + bytes[i + 3]] ^ t[2816 + bytes[i + 4]] ^
      t[2560 + bytes[i + 5]] ^ t[2304 + bytes[i + 6]] ^ t[2048 + bytes[i + 7]] ^
      t[1792 + bytes[i + 8]] ^ t[1536 + bytes[i + 9]] ^ t[1280 + bytes[i + 10]] ^
      t[1024 + bytes[i + 11]] ^ t[768 + bytes[i + 12]] ^ t[512 + bytes[i + 13]] ^
      t[256 + bytes[i + 14]] ^ t[bytes[i + 15]];
  }
  for (; i < end; i++) crc = (t[(crc >> 8) ^ bytes[i]] ^ (crc << 8)) & 0xffff;
  return crc;
}

/**
 * The CRC-16/CDMA2000 of `bytes[start, end)`.
 *
 * @example
 * ```ts
 * import { crc16 } from "@seastreamer/seastreamer/file";
 *
 * console.log(crc16(new TextEncoder().encode("hello, world")).toString(16)); // 8028
 * ```
 */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crcUpdate(CRC_INIT, bytes, start, end);
}

/**
 * Fold a message's checksum into a stream's running checksum, as SeaStreamer's
 * beacons record it: the CRC continued over the checksum's two big-endian bytes.
 */
export function runningChecksum(running: number, checksum: number): number {
  const t = TABLES;
  running = (t[(running >> 8) ^ (checksum >> 8)] ^ (running << 8)) & 0xffff;
  return (t[(running >> 8) ^ (checksum & 0xff)] ^ (running << 8)) & 0xffff;
}

/**
 * Computes many CRCs: with WebAssembly where available (the bytes are copied
 * into the module's memory first: once per payload when writing, once per
 * window of the file when reading), else with {@link crcUpdate}. Each encoder
 * and decoder has its own engine (its own memory).
 */
export class CrcEngine {
  readonly #module: CrcModule | undefined;
  #memory: Uint8Array = new Uint8Array(0);
  #loaded: Uint8Array = new Uint8Array(0);

  /** An engine (WebAssembly unless `javascriptOnly` or it is unavailable). */
  constructor(javascriptOnly = false) {
    this.#module = javascriptOnly ? undefined : instantiateCrc(TABLES);
    if (this.#module) this.#memory = new Uint8Array(this.#module.memory.buffer);
  }

  /** Whether the WebAssembly loop is in use. */
  get usesWasm(): boolean {
    return this.#module !== undefined;
  }

  #reserve(length: number): void {
    const needed = WASM_DATA + length;
    if (needed <= this.#memory.length) return;
    const pages = Math.ceil((needed - this.#memory.length) / 65536);
    this.#module!.memory.grow(pages);
    this.#memory = new Uint8Array(this.#module!.memory.buffer);
  }

  /** The CRC-16/CDMA2000 of `bytes`. */
  of(bytes: Uint8Array): number {
    const module = this.#module;
    if (module === undefined || bytes.length < 64) return crcUpdate(CRC_INIT, bytes);
    this.#reserve(bytes.length);
    this.#memory.set(bytes, WASM_DATA);
    return module.crc(WASM_DATA, bytes.length, CRC_INIT);
  }

  /** Keep `window` for {@link ofLoaded} (copied into the module's memory). */
  load(window: Uint8Array): void {
    this.#loaded = window;
    if (this.#module === undefined) return;
    this.#reserve(window.length);
    this.#memory.set(window, WASM_DATA);
  }

  /** The CRC-16/CDMA2000 of `[start, end)` of the loaded window. */
  ofLoaded(start: number, end: number): number {
    const module = this.#module;
    if (module === undefined || end - start < 64) {
      return crcUpdate(CRC_INIT, this.#loaded, start, end);
    }
    return module.crc(WASM_DATA + start, end - start, CRC_INIT);
  }
}
