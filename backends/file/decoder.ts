/**
 * The reading half of the format: finds messages and beacons in a window of a
 * file's bytes, checks every checksum, and hands out payloads as views of the
 * window (no copy) unless a beacon splits them. No I/O: the reader supplies
 * the window and refills it when told which bytes are needed.
 *
 * @module
 */
import { FileMessage, StoredHeader, WindowPayload } from "./message.ts";
import { CRC_INIT, CrcEngine, crcUpdate } from "./crc.ts";
import {
  asciiKey,
  FormatError,
  FRAME_END,
  isStreamKeyBytes,
  type Marker,
  MAX_KEY_BYTES,
  readBeacon,
} from "./format.ts";

/** What {@link FrameDecoder.next} returns when the window ends before the next message does. */
export const NEED_MORE = 0;

/** Returned by {@link FrameDecoder.next}: a message, {@link NEED_MORE}, or a format error. */
export type DecodeResult = FileMessage | typeof NEED_MORE | FormatError;

/** The error every bad offset gives while {@link FrameDecoder.probing}. */
const PROBE_FAILED = new FormatError("", 0, "not a message");

interface CachedKey {
  bytes: Uint8Array;
  key: string;
}

/**
 * Decodes messages one at a time from {@link FrameDecoder.pos} (a message
 * boundary or a beacon's offset) within the window set by
 * {@link FrameDecoder.setWindow}. After {@link NEED_MORE}, {@link FrameDecoder.need}
 * is the file offset the window must reach (at least) to go on.
 *
 * @example
 * ```ts
 * import { MessageEncoder } from "./encoder.ts";
 * import { FrameDecoder, NEED_MORE } from "./decoder.ts";
 *
 * const encoder = MessageEncoder.forNewFile({ fileName: "a.ss", createdAt: 0, beaconInterval: 1024 });
 * encoder.encode("s", 0, 1n, 0, new TextEncoder().encode("hi"));
 * const decoder = new FrameDecoder("a.ss", 1024, 128);
 * decoder.setWindow(encoder.take(), 0);
 * const message = decoder.next();
 * if (message !== NEED_MORE && !(message instanceof Error)) console.log(message.payload.text()); // hi
 * ```
 */
export class FrameDecoder {
  /** The file's name, for error messages. */
  readonly path: string;
  /** Bytes between beacons. */
  readonly interval: number;
  /** The file offset where decoding goes on. */
  pos: number;
  /** After {@link NEED_MORE}: the file offset the window must reach. */
  need = 0;
  /**
   * Skip the rest of a split message at the next beacon (set after jumping to a
   * beacon's offset, where the bytes that follow may end a message begun before).
   */
  skipping = false;
  /** The index of the last beacon passed (its offset / interval); 0 if none yet. */
  beaconIndex = 0;
  /** The markers of the last beacon passed. */
  markers: Marker[] = [];
  /**
   * Whether offsets are being tried for a message start (resynchronising): bad
   * bytes then give one shared error, as most offsets tried are bad.
   */
  probing = false;
  #buf: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(this.#buf.buffer);
  #base = 0;
  #limit = 0;
  #lastKey: CachedKey | undefined;
  #segment = 0;
  /** The window's buffer and where the window starts in it (payload views are made over it). */
  #buffer: ArrayBufferLike = this.#buf.buffer;
  #bufferStart = 0;
  readonly #crc = new CrcEngine();
  readonly #keys = new Map<number, CachedKey>();

  /** A decoder of `path` with `interval` between beacons, starting at file offset `pos`. */
  constructor(path: string, interval: number, pos: number) {
    this.path = path;
    this.interval = interval;
    this.pos = pos;
  }

  /** The file offset of the window's first byte. */
  get windowStart(): number {
    return this.#base;
  }

  /** The window's bytes. */
  get window(): Uint8Array {
    return this.#buf;
  }

  /** The file offset just past the window. */
  get windowEnd(): number {
    return this.#limit;
  }

  /** Decode from `bytes`, whose first byte is at file offset `base`. */
  setWindow(bytes: Uint8Array, base: number): void {
    this.#buf = bytes;
    this.#buffer = bytes.buffer;
    this.#bufferStart = bytes.byteOffset;
    this.#crc.load(bytes);
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#base = base;
    this.#limit = base + bytes.length;
  }

  /** The next message, {@link NEED_MORE}, or a {@link FormatError} (then {@link pos} is unchanged). */
  next(): DecodeResult {
    const interval = this.interval;
    for (;;) {
      const pos = this.pos;
      if (pos < this.#base) {
        this.need = pos + 1;
        return NEED_MORE;
      }
      // The start of the beacon interval holding pos (kept: a division per message costs).
      let segment = this.#segment;
      if (pos < segment || pos >= segment + interval) {
        segment = this.#segment = pos - (pos % interval);
      }
      if (pos === segment && pos > 0) {
        const beacon = readBeacon(
          this.#buf,
          pos - this.#base,
          this.#limit - this.#base,
          pos,
          this.path,
          this.probing,
        );
        if (typeof beacon === "number") {
          this.need = pos + beacon;
          return NEED_MORE;
        }
        if (beacon instanceof FormatError) return beacon;
        if (this.skipping) {
          const skip = Math.min(beacon.remaining, interval - beacon.size);
          this.skipping = skip < beacon.remaining;
          this.pos = pos + beacon.size + skip;
        } else if (beacon.remaining !== 0) {
          return this.#fail(
            pos,
            `beacon says ${beacon.remaining} bytes of a split message follow, where a message should start`,
          );
        } else {
          this.pos = pos + beacon.size;
        }
        this.beaconIndex = pos / interval;
        this.markers = beacon.markers;
        continue;
      }
      this.skipping = false;
      return this.#message(pos, segment + interval);
    }
  }

  /** The message at `pos`; `boundary` is the next beacon's offset. */
  #message(pos: number, boundary: number): DecodeResult {
    const buf = this.#buf;
    const base = this.#base;
    if (pos >= this.#limit) {
      this.need = pos + 1;
      return NEED_MORE;
    }
    const keyLength = buf[pos - base];
    // An empty key is never written: seeing one means damage (often a run of zeros).
    if (keyLength > MAX_KEY_BYTES || keyLength === 0) {
      return this.#fail(pos, `bad stream key length ${keyLength}`);
    }
    const headEnd = pos + 1 + keyLength + 28;
    if (headEnd > boundary) return this.#split(pos, keyLength);
    if (headEnd > this.#limit) {
      this.need = headEnd;
      return NEED_MORE;
    }
    const view = this.#view;
    const at = pos - base + 1 + keyLength;
    const length = view.getUint32(at + 24);
    const end = headEnd + length + 3;
    if (end > boundary) {
      // Probing, rule out most offsets cheaply: the beacon must say how many bytes follow it.
      if (
        this.probing && boundary + 6 <= this.#limit &&
        (buf[boundary - base] !== FRAME_END ||
          view.getUint32(boundary - base + 1) !== end - boundary)
      ) return PROBE_FAILED;
      return this.#split(pos, keyLength);
    }
    if (end > this.#limit) {
      this.need = end;
      return NEED_MORE;
    }
    const payloadStart = at + 28;
    const payloadEnd = payloadStart + length;
    if (buf[payloadEnd + 2] !== FRAME_END) {
      return this.#fail(pos, "message does not end with 0D");
    }
    const key = this.#key(buf, pos - base + 1, keyLength);
    if (key === undefined) return this.#fail(pos, "bad stream key");
    const stored = (buf[payloadEnd] << 8) | buf[payloadEnd + 1];
    const computed = this.#crc.ofLoaded(payloadStart, payloadEnd);
    if (stored !== computed) return this.#checksumError(pos, stored, computed);
    const seqHigh = view.getUint32(at + 8);
    const seqLow = view.getUint32(at + 12);
    const header = new StoredHeader(
      key,
      view.getUint32(at) * 4294967296 + view.getUint32(at + 4),
      seqHigh < 0x200000 ? seqHigh * 4294967296 + seqLow : view.getBigUint64(at + 8),
      view.getUint32(at + 16) * 4294967296 + view.getUint32(at + 20),
    );
    this.pos = end;
    return new FileMessage(
      header,
      new WindowPayload(this.#buffer, this.#bufferStart + payloadStart, length),
      pos,
      end,
      stored,
    );
  }

  /** A message cut by one or more beacons: copy its pieces together (rare: once per interval). */
  #split(pos: number, keyLength: number): DecodeResult {
    const headLength = 1 + keyLength + 28;
    const head = this.#gather(pos, headLength, false);
    if (!(head instanceof Uint8Array)) return head;
    const view = new DataView(head.buffer);
    const length = view.getUint32(headLength - 4);
    const total = headLength + length + 3;
    const markers = { index: this.beaconIndex, markers: this.markers };
    const whole = this.#gather(pos, total, true);
    if (!(whole instanceof Uint8Array)) {
      this.beaconIndex = markers.index;
      this.markers = markers.markers;
      return whole;
    }
    if (whole[total - 1] !== FRAME_END) {
      return this.#fail(pos, "message does not end with 0D");
    }
    const key = this.#key(whole, 1, keyLength);
    if (key === undefined) return this.#fail(pos, "bad stream key");
    const stored = (whole[total - 3] << 8) | whole[total - 2];
    const computed = crcUpdate(CRC_INIT, whole, headLength, headLength + length);
    if (stored !== computed) return this.#checksumError(pos, stored, computed);
    const at = 1 + keyLength;
    const header = new StoredHeader(
      key,
      view.getUint32(at) * 4294967296 + view.getUint32(at + 4),
      view.getBigUint64(at + 8),
      view.getUint32(at + 16) * 4294967296 + view.getUint32(at + 20),
    );
    const end = this.#gatheredEnd;
    this.pos = end;
    return new FileMessage(
      header,
      new WindowPayload(whole.buffer, whole.byteOffset + headLength, length),
      pos,
      end,
      stored,
    );
  }

  #gatheredEnd = 0;

  /**
   * `count` message bytes from `pos`, skipping the beacons between them. The
   * beacons and the window are checked before anything is allocated: `count`
   * comes from the file, and a damaged length (up to 4 GiB) must end in a
   * FormatError or NEED_MORE, not in allocating it.
   */
  #gather(
    pos: number,
    count: number,
    exact: boolean,
  ): Uint8Array | typeof NEED_MORE | FormatError {
    const checked = this.#walk(pos, count, exact, undefined);
    if (checked !== undefined) return checked;
    const out = new Uint8Array(count);
    this.#walk(pos, count, exact, out);
    return out;
  }

  /**
   * Walk `count` message bytes from `pos` across beacons, copying them into
   * `out` if given; `undefined` once all were there, else NEED_MORE or a FormatError.
   */
  #walk(
    pos: number,
    count: number,
    exact: boolean,
    out: Uint8Array | undefined,
  ): typeof NEED_MORE | FormatError | undefined {
    const interval = this.interval;
    let at = pos;
    let got = 0;
    while (got < count) {
      if (at % interval === 0 && at !== pos) {
        const beacon = readBeacon(
          this.#buf,
          at - this.#base,
          this.#limit - this.#base,
          at,
          this.path,
          this.probing,
        );
        if (typeof beacon === "number") {
          this.need = at + beacon;
          return NEED_MORE;
        }
        if (beacon instanceof FormatError) return beacon;
        if (exact ? beacon.remaining !== count - got : beacon.remaining < count - got) {
          return this.#fail(
            at,
            `beacon says ${beacon.remaining} bytes of a split message follow, not ${count - got}`,
          );
        }
        this.beaconIndex = at / interval;
        this.markers = beacon.markers;
        at += beacon.size;
        continue;
      }
      const piece = Math.min(count - got, at - (at % interval) + interval - at);
      if (at + piece > this.#limit) {
        this.need = at + piece;
        return NEED_MORE;
      }
      out?.set(this.#buf.subarray(at - this.#base, at - this.#base + piece), got);
      got += piece;
      at += piece;
    }
    this.#gatheredEnd = at;
    return undefined;
  }

  /** The error for bad bytes at `offset` (a shared one while probing: building errors costs). */
  #fail(offset: number, reason: string): FormatError {
    return this.probing ? PROBE_FAILED : new FormatError(this.path, offset, reason);
  }

  #checksumError(pos: number, stored: number, computed: number): FormatError {
    if (this.probing) return PROBE_FAILED;
    const hex = (n: number) => n.toString(16).padStart(4, "0");
    return new FormatError(
      this.path,
      pos,
      `checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
    );
  }

  /** The stream key at `bytes[start, start + length)`, or `undefined` if invalid. */
  #key(bytes: Uint8Array, start: number, length: number): string | undefined {
    const last = this.#lastKey;
    if (last !== undefined && last.bytes.length === length) {
      const known = last.bytes;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (known[i] !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return last.key;
    }
    let hash = length;
    for (let i = 0; i < length; i++) hash = (Math.imul(hash, 31) + bytes[start + i]) | 0;
    let cached = this.#keys.get(hash);
    if (cached !== undefined) {
      const known = cached.bytes;
      for (let i = 0; i < length && cached; i++) {
        if (known[i] !== bytes[start + i]) cached = undefined;
      }
      if (cached && known.length !== length) cached = undefined;
    }
    if (cached === undefined) {
      if (!isStreamKeyBytes(bytes, start, start + length)) return undefined;
      cached = {
        bytes: bytes.slice(start, start + length),
        key: asciiKey(bytes, start, start + length),
      };
      if (this.#keys.size > 1024) this.#keys.clear();
      this.#keys.set(hash, cached);
    }
    this.#lastKey = cached;
    return cached.key;
  }
}
