/**
 * Reading a `.ss` file: messages in order from any position, in large chunks;
 * jumping with the beacons (to the beginning, the end, the N-th beacon, or by
 * a binary search over beacons for a seq or a time) without reading what lies
 * between; following the file as it grows.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import {
  type OpenFile,
  openFile,
  resolvePath,
  stat,
  uninitializedBytes,
  waitForChange,
} from "../../runtime/mod.ts";
import { type DecodeResult, FrameDecoder, NEED_MORE } from "./decoder.ts";
import type { FileMessage } from "./message.ts";
import {
  type Beacon,
  Damage,
  decodeHeader,
  type FileHeader,
  FormatError,
  HEADER_SIZE,
  type Marker,
  readBeacon,
} from "./format.ts";
import { onceWritten } from "./activity.ts";

/** Bytes read at a time when reading through a file. */
export const READ_CHUNK = 1024 * 1024;
/** Bytes read first after a jump (a seek needs few; reading through grows to READ_CHUNK). */
const FIRST_CHUNK = 64 * 1024;
/** Room kept in front of a read-ahead chunk for the end of the chunk before (a cut message). */
const CARRY = 64 * 1024;
/** How often a waiting reader looks at the file when no file-system event comes, ms. */
export const POLL_MS = 100;

/** Where a survey of the beacons puts a beacon relative to what is looked for. */
export type Side = "left" | "right" | "undecided";

/** A chunk being read ahead. */
interface ReadAhead {
  /** The file offset it starts at. */
  from: number;
  /** CARRY free bytes, then the chunk. */
  bytes: Uint8Array;
  /** How many bytes of the chunk were read. */
  reading: Promise<number>;
}

/** What {@link MessageReader.read} returns. */
export type ReadResult = FileMessage | FormatError | typeof AT_END;

/** Returned by {@link MessageReader.read}: nothing more in the file for now. */
export const AT_END = 1;

/**
 * A reader of one `.ss` file: `read()` gives messages in file order; `rewind*`
 * and `survey` move it; `waitForGrowth()` waits until the file changes.
 */
export class MessageReader {
  /** The path as given. */
  readonly path: string;
  /** The absolute path (the key of in-process wake-ups). */
  readonly absolutePath: string;
  /** The file's header. */
  readonly header: FileHeader;
  /** The decoder (its `pos` is where reading goes on). */
  readonly decoder: FrameDecoder;
  /** Bytes read from the file so far (for tests of the beacon jumps). */
  bytesRead = 0;
  /** The file size seen last. */
  knownSize: number;
  readonly #file: OpenFile;
  #atEof = false;
  #closed = false;
  #ahead: ReadAhead | undefined;
  #chunk = FIRST_CHUNK;

  private constructor(path: string, file: OpenFile, header: FileHeader, size: number) {
    this.path = path;
    this.absolutePath = resolvePath(path);
    this.#file = file;
    this.header = header;
    this.knownSize = size;
    this.decoder = new FrameDecoder(path, header.beaconInterval, HEADER_SIZE);
  }

  /**
   * Open `path` and read its header. A missing file is `StreamKeyNotFound`.
   * A file shorter than a header: with `waitForHeader` (ms), wait that long
   * for one (a writer is creating it), then `StreamError("Timeout")`; without,
   * `undefined` for an empty file and a {@link FormatError} for a cut header.
   */
  static async open(
    path: string,
    options: { waitForHeader?: number } = {},
  ): Promise<MessageReader | undefined> {
    const deadline = Date.now() + (options.waitForHeader ?? 0);
    const file = await openFile(path);
    try {
      for (;;) {
        const bytes = new Uint8Array(HEADER_SIZE);
        const got = await file.read(bytes, 0);
        if (got === HEADER_SIZE) {
          const header = decodeHeader(bytes, path);
          return new MessageReader(path, file, header, await file.size());
        }
        if (!options.waitForHeader) {
          if (got === 0) {
            await file.close();
            return undefined;
          }
          decodeHeader(bytes.subarray(0, got), path); // throws: the header is cut short
        }
        if ((await stat(path)) === undefined) {
          throw new StreamError("StreamKeyNotFound", `${path} was removed`);
        }
        if (Date.now() >= deadline) {
          throw new StreamError(
            "Timeout",
            `${path} has no SeaStreamer header after ${options.waitForHeader} ms (is anything writing it?)`,
          );
        }
        await waitForChange(path, { pollMs: POLL_MS });
      }
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** Bytes between beacons. */
  get interval(): number {
    return this.header.beaconInterval;
  }

  /** The file offset where reading goes on. */
  get position(): number {
    return this.decoder.pos;
  }

  /** Close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ahead?.reading.catch(() => {});
    this.#ahead = undefined;
    await this.#file.close();
  }

  /**
   * The next message at or after the position, a {@link FormatError} (the
   * position stays at the bad bytes: {@link skip} them or {@link reread} them),
   * or {@link AT_END} when the file holds no complete message beyond the
   * position (the position stays: call again once the file has grown).
   */
  async read(): Promise<ReadResult> {
    for (;;) {
      const result: DecodeResult = this.decoder.next();
      if (result !== NEED_MORE) return result;
      if (!(await this.#fill())) return AT_END;
    }
  }

  /**
   * The next good message, going on past damage (a scan that reports none:
   * recovery, admin, a writer catching up), or {@link AT_END}.
   */
  async readPastDamage(): Promise<FileMessage | typeof AT_END> {
    for (;;) {
      const result = await this.read();
      if (result === AT_END) {
        // Good messages after a damaged length are read too (a writer appends after them).
        if (this.position < this.knownSize && await this.damageAtEnd()) continue;
        return AT_END;
      }
      if (!(result instanceof FormatError)) return result;
      await this.resync(result);
    }
  }

  /** The next message from what is already read, without I/O; `undefined` when more must be read. */
  readBuffered(): FileMessage | FormatError | undefined {
    const result = this.decoder.next();
    return result === NEED_MORE ? undefined : result;
  }

  /**
   * After a {@link FormatError} from {@link read}: go on at the next message
   * that decodes and checks out, scanning forward from the bad bytes. Where no
   * good message follows in the file as it is now, reading goes on at the next
   * beacon (a writer pads up to it). Returns what was skipped.
   */
  async resync(error: FormatError): Promise<Damage> {
    const from = this.decoder.pos;
    const found = await this.#findMessage(from + 1);
    if (found !== undefined) return new Damage(this.path, from, found - from, error.reason);
    const next = this.resyncAfter(from);
    return new Damage(
      this.path,
      from,
      Math.max(1, Math.min(next, this.knownSize) - from),
      error.reason,
    );
  }

  /**
   * Go on at the next beacon after `offset`, skipping the rest of a message
   * split there (where no good message can be found sooner); that beacon's offset.
   */
  resyncAfter(offset: number): number {
    const next = offset - (offset % this.interval) + this.interval;
    this.#moveTo(next, true);
    return next;
  }

  /**
   * After {@link read} returned {@link AT_END} short of the file's end: whether
   * the message at the position claims a length past the end although good
   * messages follow it (damage: reading goes on at the first of them), or is
   * just not complete yet (`undefined`: a writer is writing it, or the file was cut).
   */
  async damageAtEnd(): Promise<Damage | undefined> {
    const from = this.decoder.pos;
    const skipping = this.decoder.skipping;
    if (from >= this.knownSize) return undefined;
    const found = await this.#findMessage(from + 1);
    if (found !== undefined) {
      return new Damage(this.path, from, found - from, "message length reaches past good messages");
    }
    this.decoder.pos = from;
    this.decoder.skipping = skipping;
    return undefined;
  }

  /**
   * The first offset from `start` on where a message (or a beacon followed by
   * one) decodes and checks out within the file's current size; the decoder is
   * left there. `undefined` if there is none.
   */
  async #findMessage(start: number): Promise<number | undefined> {
    const decoder = this.decoder;
    const interval = this.interval;
    this.knownSize = await this.#file.size();
    const barren = this.#barren;
    // Nothing from there to the same end checked out last time: no need to look again.
    if (barren.size === this.knownSize && start >= barren.from) return undefined;
    decoder.probing = true;
    try {
      for (let at = start; at < this.knownSize; at++) {
        for (;;) {
          decoder.pos = at;
          decoder.skipping = at % interval === 0;
          const result = decoder.next();
          if (result === NEED_MORE) {
            // Bytes past the end: not a whole message (a length from damaged bytes, or a write under way).
            if (decoder.need > this.knownSize || !(await this.#fill())) break;
            continue;
          }
          if (result instanceof FormatError) break;
          decoder.pos = at;
          decoder.skipping = at % interval === 0;
          return at;
        }
      }
    } finally {
      decoder.probing = false;
    }
    this.#barren = { from: start, size: this.knownSize };
    return undefined;
  }

  /** Where a scan found no good message up to the file's end, and that end. */
  #barren = { from: Infinity, size: -1 };

  /** Forget the bytes read so far: the next read reads the file again from the position. */
  reread(): void {
    this.#moveTo(this.decoder.pos, this.decoder.skipping);
  }

  /** Whether the bytes needed to go on lie beyond the file's end as last seen. */
  get needsBeyondEnd(): boolean {
    return this.decoder.need > this.knownSize;
  }

  /** Read more bytes from the position; false if the file has no more yet. */
  async #fill(): Promise<boolean> {
    const pos = this.decoder.pos;
    const need = Math.max(this.decoder.need, pos + 1);
    const ahead = this.#ahead;
    this.#ahead = undefined;
    if (ahead !== undefined) {
      const filled = await this.#useReadAhead(ahead, pos, need);
      if (filled !== undefined) return filled;
    }
    const chunk = this.#chunk;
    if (this.#atEof || need - pos > chunk) {
      // At the end last time (cheap when tailing), or a long message: look at the size
      // before reading; a length from damaged bytes must not allocate gigabytes.
      this.knownSize = await this.#file.size();
      if (this.knownSize < need) return false;
    }
    this.#chunk = Math.min(READ_CHUNK, chunk * 2);
    let size = Math.max(need - pos, chunk);
    if (this.#atEof) size = Math.max(need - pos, Math.min(size, this.knownSize - pos));
    const bytes = uninitializedBytes(size);
    const got = await this.#readFully(bytes, pos);
    this.#atEof = got < size;
    if (pos + got > this.knownSize || this.#atEof) this.knownSize = pos + got;
    this.decoder.setWindow(got === size ? bytes : bytes.subarray(0, got), pos);
    this.#readAhead(pos + got);
    return pos + got >= need;
  }

  async #readFully(bytes: Uint8Array, position: number): Promise<number> {
    let got = 0;
    while (got < bytes.length) {
      const n = await this.#file.read(bytes.subarray(got), position + got);
      if (n === 0) break;
      got += n;
    }
    this.bytesRead += got;
    return got;
  }

  /**
   * Start reading the chunk after `from` while the current one is decoded (the
   * read runs in the background: reading and decoding overlap). The chunk has
   * room in front for the end of the current window (a message cut by the chunk border).
   */
  #readAhead(from: number): void {
    if (this.#atEof || this.#closed) return;
    const chunk = this.#chunk;
    this.#chunk = Math.min(READ_CHUNK, chunk * 2);
    const bytes = uninitializedBytes(CARRY + chunk);
    const reading = this.#readFully(bytes.subarray(CARRY), from);
    reading.catch(() => {});
    this.#ahead = { from, bytes, reading };
  }

  /** Make the window from a read-ahead chunk; `undefined` if it does not fit the position. */
  async #useReadAhead(ahead: ReadAhead, pos: number, need: number): Promise<boolean | undefined> {
    const carry = ahead.from - pos;
    if (pos < this.decoder.windowStart || carry < 0 || carry > CARRY) {
      await ahead.reading.catch(() => {});
      return undefined;
    }
    const got = await ahead.reading;
    const start = CARRY - carry;
    // The bytes from the position to the old window's end go in front of the new chunk.
    const old = this.decoder.window;
    ahead.bytes.set(old.subarray(old.length - carry), start);
    this.#atEof = got < ahead.bytes.length - CARRY;
    if (ahead.from + got > this.knownSize || this.#atEof) this.knownSize = ahead.from + got;
    if (ahead.from + got < need && !this.#atEof) return undefined; // a long message: read it whole
    this.decoder.setWindow(ahead.bytes.subarray(start, CARRY + got), pos);
    this.#readAhead(ahead.from + got);
    return ahead.from + got >= need;
  }

  /**
   * Resolve when the file may have grown: a write by this process, a file-system
   * event, or a poll. A removed file is `StreamError("Closed")`; a file cut below
   * the position is a `StreamError("Backend")`.
   */
  async waitForGrowth(signal?: AbortSignal): Promise<void> {
    const woken = new AbortController();
    const cancel = onceWritten(this.absolutePath, () => woken.abort());
    const abort = () => woken.abort();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      const size = await this.#sizeOrGone();
      if (size <= this.knownSize && !signal?.aborted && !woken.signal.aborted) {
        await waitForChange(this.path, { pollMs: POLL_MS, signal: woken.signal }).catch(() => {});
      }
    } finally {
      cancel();
      signal?.removeEventListener("abort", abort);
    }
    if (signal?.aborted) throw signal.reason;
    await this.#sizeOrGone();
  }

  async #sizeOrGone(): Promise<number> {
    const info = await stat(this.path);
    if (info === undefined) throw new StreamError("Closed", `${this.path} was removed`);
    // (A position past bad bytes may lie beyond the end: the next writer pads up to it.)
    if (info.size < this.decoder.pos && !this.decoder.skipping) {
      throw new StreamError(
        "Backend",
        `${this.path} was cut to ${info.size} bytes, below the read position ${this.decoder.pos}`,
      );
    }
    return info.size;
  }

  #moveTo(pos: number, skipping: boolean): void {
    const ahead = this.#ahead;
    this.#ahead = undefined;
    ahead?.reading.catch(() => {});
    this.decoder.setWindow(new Uint8Array(0), pos);
    this.#chunk = FIRST_CHUNK;
    this.decoder.pos = pos;
    this.decoder.skipping = skipping;
    this.decoder.need = pos;
    this.#atEof = true; // look at the size before the next read
  }

  /** Go to the first message. */
  rewindToBeginning(): void {
    this.#moveTo(HEADER_SIZE, false);
  }

  /** Go to `offset`, which must be a message boundary (a message's start or end). */
  rewindToOffset(offset: number): void {
    this.#moveTo(offset, false);
  }

  /** Go to the first message starting after beacon `index` (0: the first message of the file). */
  rewindToBeacon(index: number): void {
    if (index <= 0) this.rewindToBeginning();
    else this.#moveTo(index * this.interval, true);
  }

  /**
   * Go to the end: just past the last complete message, reading only from the
   * last beacon on. A trailing end-of-stream message is not passed (a reader
   * there sees the stream end). Returns the position.
   */
  async rewindToEnd(): Promise<number> {
    const size = await this.#file.size();
    this.knownSize = size;
    let index = Math.floor(size / this.interval);
    // The last beacon that is whole (a writer may be in the middle of one).
    while (index > 0) {
      const beacon = await this.readBeaconAt(index);
      if (beacon !== undefined) break;
      index--;
    }
    this.rewindToBeacon(index);
    let endOfStream: number | undefined;
    for (;;) {
      const result = await this.readPastDamage();
      if (result === AT_END) break;
      endOfStream = result.isEndOfStream ? result.offset : undefined;
    }
    if (endOfStream !== undefined) this.#moveTo(endOfStream, false);
    return this.decoder.pos;
  }

  /** The beacon at `index * interval`, or `undefined` if there is none (yet) or it is malformed. */
  async readBeaconAt(index: number): Promise<Beacon | undefined> {
    const offset = index * this.interval;
    let size = 4096;
    for (let attempt = 0; attempt < 3; attempt++) {
      const bytes = new Uint8Array(size);
      const got = await this.#file.read(bytes, offset);
      this.bytesRead += got;
      const beacon = readBeacon(bytes, 0, got, offset, this.path);
      if (typeof beacon === "number") {
        if (got < size || beacon <= size) return undefined; // cut short by the file's end
        size = beacon + 4096;
        continue;
      }
      if (beacon instanceof FormatError) return undefined;
      return beacon;
    }
    return undefined;
  }

  /**
   * Binary search over the beacons for the last one `decide` puts on the left
   * of what is looked for (0 if none): the target lies after it. Beacons that
   * say nothing about it ("undecided") are stepped over.
   */
  async survey(decide: (markers: readonly Marker[]) => Side): Promise<number> {
    const size = await this.#file.size();
    this.knownSize = size;
    const seen = new Map<number, Side>();
    const look = async (index: number): Promise<Side> => {
      let side = seen.get(index);
      if (side === undefined) {
        const beacon = await this.readBeaconAt(index);
        side = beacon === undefined ? "undecided" : decide(beacon.markers);
        seen.set(index, side);
      }
      return side;
    };
    let low = 0;
    let high = Math.floor(size / this.interval) + 1;
    while (high - low > 1) {
      const mid = (low + high) >>> 1;
      let found: { index: number; side: Side } | undefined;
      for (let distance = 0; found === undefined; distance++) {
        const candidates = [mid + distance, mid - distance].filter((i, n) =>
          i > low && i < high && (n === 0 || distance > 0)
        );
        if (candidates.length === 0) break;
        for (const index of candidates) {
          const side = await look(index);
          if (side !== "undecided") {
            found = { index, side };
            break;
          }
        }
      }
      if (found === undefined) break;
      if (found.side === "left") low = found.index;
      else high = found.index;
    }
    return low;
  }
}
