/**
 * The writing half of the format: turns messages into the bytes SeaStreamer's
 * `MessageSink` would write, with a beacon at every multiple of the beacon
 * interval (splitting messages around it) carrying round-robin stream markers.
 * No I/O: the writer hands the bytes to the file.
 *
 * @module
 */
import { StreamError, type StreamKey } from "../../types.ts";
import { CRC_INIT, CrcEngine, runningChecksum } from "./crc.ts";
import {
  encodeHeader,
  END_OF_STREAM,
  type FileHeader,
  HEADER_SIZE,
  keyBytes,
  type Marker,
  markersPerBeacon,
  maxBeaconSize,
  MESSAGE_OVERHEAD,
  putBeacon,
  SEA_STREAMER_INTERNAL,
} from "./format.ts";

/** A stream's state as the beacons summarize it. */
interface StreamSummary {
  key: Uint8Array;
  streamKey: StreamKey;
  shardId: number;
  /** The highest seq so far (a number while it is a safe integer). */
  seqNo: number | bigint;
  timestamp: number;
  running: number;
}

const EOS_BYTES = new TextEncoder().encode(END_OF_STREAM);
const KEY_CACHE_LIMIT = 4096;
const TWO_32 = 4294967296;
/** The smallest output buffer: about the size of one write to the file. */
export const MIN_BUFFER = 1024 * 1024;
const MAX_SPARES = 8;

/**
 * Encodes messages at a file offset, keeping the beacon state: the offset of
 * the next byte, the streams summarized so far (ordered by stream key, then
 * shard, as SeaStreamer's `BTreeMap`) and how many markers were written.
 *
 * Call {@link MessageEncoder.begin} with a size hint, `encode` messages, then
 * {@link MessageEncoder.take} the bytes to write at the offset where they began.
 *
 * @example A file of one message, as SeaStreamer writes it
 * ```ts
 * import { MessageEncoder } from "./encoder.ts";
 *
 * const encoder = MessageEncoder.forNewFile({ fileName: "a.ss", createdAt: 0, beaconInterval: 1024 });
 * encoder.encode("hello", 0, 1n, 0, new TextEncoder().encode("world"));
 * console.log(encoder.take().length); // 128 + 43
 * ```
 */
export class MessageEncoder {
  /** Bytes between beacons. */
  readonly beaconInterval: number;
  #offset: number;
  #beaconCount = 0;
  readonly #streams: StreamSummary[] = [];
  readonly #markersPerBeacon: number;
  readonly #keys = new Map<StreamKey, Uint8Array>();
  #lastKey: StreamKey | undefined;
  #lastKeyBytes: Uint8Array = new Uint8Array(0);
  readonly #spares: Uint8Array[] = [];
  readonly #crc = new CrcEngine();
  #out: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(this.#out.buffer);
  #length = 0;
  #start: number;

  /** An encoder continuing a file at `offset` (a message boundary) with `beaconInterval`. */
  constructor(beaconInterval: number, offset: number) {
    this.beaconInterval = beaconInterval;
    this.#offset = offset;
    this.#start = offset;
    this.#markersPerBeacon = markersPerBeacon(beaconInterval);
  }

  /**
   * An encoder for a new file: its first bytes are the header (and, should the
   * header end exactly on the interval, an empty beacon, as SeaStreamer does).
   */
  static forNewFile(header: FileHeader): MessageEncoder {
    const encoder = new MessageEncoder(header.beaconInterval, 0);
    encoder.begin(HEADER_SIZE + 7);
    encoder.#out.set(encodeHeader(header), 0);
    encoder.#length = HEADER_SIZE;
    encoder.#offset = HEADER_SIZE;
    if (HEADER_SIZE % header.beaconInterval === 0) encoder.#beacon(0);
    return encoder;
  }

  /** The file offset of the next byte. */
  get offset(): number {
    return this.#offset;
  }

  /** The file offset where the bytes not yet taken begin. */
  get pendingStart(): number {
    return this.#start;
  }

  /** Bytes encoded and not yet taken. */
  get pendingLength(): number {
    return this.#length;
  }

  /** The largest number of bytes `count` messages of `payloadBytes` in total (keys of `keyBytes`) can take. */
  maxSize(count: number, payloadBytes: number, keyBytesTotal: number): number {
    const body = count * MESSAGE_OVERHEAD + payloadBytes + keyBytesTotal;
    const within = this.#offset % this.beaconInterval;
    const beacons = Math.floor((within + body) / this.beaconInterval) + 1;
    return body + beacons * maxBeaconSize(this.beaconInterval);
  }

  /** Make room for at least `bytes` more bytes (buffers are at least {@link MIN_BUFFER}). */
  begin(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#out.length) return;
    let out: Uint8Array | undefined;
    const spares = this.#spares;
    for (let i = spares.length - 1; i >= 0; i--) {
      if (spares[i].length >= needed) {
        out = spares[i];
        spares.splice(i, 1);
        break;
      }
    }
    // Whole MiBs: a buffer given back fits the next batches of about the same size.
    const size = Math.max(needed, this.#out.length * 2, MIN_BUFFER);
    out ??= new Uint8Array(Math.ceil(size / MIN_BUFFER) * MIN_BUFFER);
    out.set(this.#out.subarray(0, this.#length));
    this.#out = out;
    this.#view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Bytes that fit without a new buffer. */
  get room(): number {
    return this.#out.length - this.#length;
  }

  /** The bytes encoded since the last take; they belong at {@link pendingStart}. */
  take(): Uint8Array {
    const bytes = this.#out.subarray(0, this.#length);
    // The taken bytes are written asynchronously: their buffer comes back by recycle().
    this.#out = new Uint8Array(0);
    this.#view = new DataView(this.#out.buffer);
    this.#length = 0;
    this.#start = this.#offset;
    return bytes;
  }

  /** Give back bytes from {@link take} once written, to encode into again (saves allocating). */
  recycle(bytes: Uint8Array): void {
    if (bytes.byteOffset !== 0 || this.#spares.length >= MAX_SPARES) return;
    const whole = new Uint8Array(bytes.buffer);
    if (whole.length >= MIN_BUFFER && whole.length <= 4 * MIN_BUFFER) this.#spares.push(whole);
  }

  /** The stored bytes of `key` (cached). */
  keyBytes(key: StreamKey): Uint8Array {
    if (key === this.#lastKey) return this.#lastKeyBytes;
    let bytes = this.#keys.get(key);
    if (bytes === undefined) {
      bytes = keyBytes(key);
      if (this.#keys.size >= KEY_CACHE_LIMIT) this.#keys.clear();
      this.#keys.set(key, bytes);
    }
    this.#lastKey = key;
    this.#lastKeyBytes = bytes;
    return bytes;
  }

  /** Record a stream's summary as known from the file (when appending), as SeaStreamer's writer does. */
  setSummary(key: StreamKey, shardId: number, seqNo: bigint, timestamp: number, running: number) {
    const summary = this.#summary(this.keyBytes(key), key, shardId, seqNo, timestamp);
    summary.seqNo = seqNo <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seqNo) : seqNo;
    summary.timestamp = timestamp;
    summary.running = running;
  }

  /**
   * Encode a message; its checksum. `seqNo` (a safe integer or a bigint) must
   * fit a u64, `timestamp` is ms. Call {@link begin} first with enough room ({@link maxSize}).
   */
  encode(
    key: StreamKey,
    shardId: number,
    seqNo: number | bigint,
    timestamp: number,
    payload: Uint8Array,
  ): number {
    const kb = this.keyBytes(key);
    const checksum = this.#crc.of(payload);
    const summary = this.#summary(kb, key, shardId, seqNo, timestamp);
    if (seqNo > summary.seqNo) summary.seqNo = seqNo;
    if (timestamp > summary.timestamp) summary.timestamp = timestamp;
    summary.running = runningChecksum(summary.running, checksum);

    const size = MESSAGE_OVERHEAD + kb.length + payload.length;
    const room = this.beaconInterval - (this.#offset % this.beaconInterval);
    if (this.#length + size > this.#out.length) {
      this.begin(size + maxBeaconSize(this.beaconInterval));
    }
    if (size <= room) {
      this.#put(kb, shardId, seqNo, timestamp, payload, checksum, this.#out, this.#length);
      this.#length += size;
      this.#offset += size;
      if (size === room) this.#beacon(0);
    } else {
      // Split around one or more beacons: lay the message out, then copy it in pieces.
      const message = new Uint8Array(size);
      this.#put(kb, shardId, seqNo, timestamp, payload, checksum, message, 0);
      let done = 0;
      while (done < size) {
        const chunk = Math.min(
          size - done,
          this.beaconInterval - (this.#offset % this.beaconInterval),
        );
        this.begin(chunk + maxBeaconSize(this.beaconInterval));
        this.#out.set(message.subarray(done, done + chunk), this.#length);
        this.#length += chunk;
        this.#offset += chunk;
        done += chunk;
        if (this.#offset % this.beaconInterval === 0) this.#beacon(size - done);
      }
    }
    return checksum;
  }

  /** Encode SeaStreamer's end-of-stream message (stream `SEA_STREAMER_INTERNAL`, seq 0, payload `EOS`). */
  encodeEndOfStream(timestamp: number): void {
    this.begin(
      MESSAGE_OVERHEAD + SEA_STREAMER_INTERNAL.length + 3 + maxBeaconSize(this.beaconInterval),
    );
    this.encode(SEA_STREAMER_INTERNAL, 0, 0n, timestamp, EOS_BYTES);
  }

  /**
   * Count a message another writer appended into the streams' summaries (its
   * seq, timestamp and checksum), as if encoded here.
   */
  observe(key: StreamKey, shardId: number, seqNo: bigint, timestamp: number, checksum: number) {
    const summary = this.#summary(this.keyBytes(key), key, shardId, seqNo, timestamp);
    const seq = seqNo <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seqNo) : seqNo;
    if (seq > summary.seqNo) summary.seqNo = seq;
    if (timestamp > summary.timestamp) summary.timestamp = timestamp;
    summary.running = runningChecksum(summary.running, checksum);
  }

  /** Go on at `offset` (a message boundary others wrote up to); nothing may be pending. */
  moveTo(offset: number): void {
    if (this.#length !== 0) {
      throw new StreamError("Backend", "cannot move an encoder with bytes not yet written");
    }
    this.#offset = offset;
    this.#start = offset;
  }

  /** Write an empty beacon here (the offset must be on the interval). */
  emptyBeacon(): void {
    if (this.#offset === 0 || this.#offset % this.beaconInterval !== 0) {
      throw new StreamError("Backend", `no beacon belongs at offset ${this.#offset}`);
    }
    this.begin(7);
    this.#length = putBeacon(this.#out, this.#view, this.#length, 0, []);
    this.#offset += 7;
  }

  #put(
    kb: Uint8Array,
    shardId: number,
    seqNo: number | bigint,
    timestamp: number,
    payload: Uint8Array,
    checksum: number,
    out: Uint8Array,
    at: number,
  ): void {
    const view = out === this.#out ? this.#view : new DataView(out.buffer, out.byteOffset);
    const keyLength = kb.length;
    out[at] = keyLength;
    for (let i = 0; i < keyLength; i++) out[at + 1 + i] = kb[i];
    at += 1 + keyLength;
    view.setUint32(at, shardId > 0xffffffff ? Math.floor(shardId / TWO_32) : 0);
    view.setUint32(at + 4, shardId >>> 0);
    if (typeof seqNo === "number") {
      view.setUint32(at + 8, Math.floor(seqNo / TWO_32));
      view.setUint32(at + 12, seqNo >>> 0);
    } else {
      view.setBigUint64(at + 8, seqNo);
    }
    view.setUint32(at + 16, Math.floor(timestamp / TWO_32));
    view.setUint32(at + 20, timestamp >>> 0);
    const length = payload.length;
    view.setUint32(at + 24, length);
    at += 28;
    out.set(payload, at);
    at += length;
    out[at] = checksum >> 8;
    out[at + 1] = checksum & 0xff;
    out[at + 2] = 0x0d;
  }

  /** The summary of (key, shard), created if new (kept in SeaStreamer's order). */
  #summary(
    kb: Uint8Array,
    key: StreamKey,
    shardId: number,
    seqNo: number | bigint,
    timestamp: number,
  ): StreamSummary {
    // Usually one stream, or a few: look at the last hit first.
    const last = this.#lastHit;
    if (last !== undefined && last.streamKey === key && last.shardId === shardId) return last;
    const streams = this.#streams;
    let low = 0;
    let high = streams.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = streams[mid];
      const before = other.streamKey < key ||
        (other.streamKey === key && other.shardId < shardId);
      if (before) low = mid + 1;
      else high = mid;
    }
    let found = streams[low];
    if (found === undefined || found.streamKey !== key || found.shardId !== shardId) {
      found = { key: kb, streamKey: key, shardId, seqNo, timestamp, running: CRC_INIT };
      streams.splice(low, 0, found);
    }
    this.#lastHit = found;
    return found;
  }

  #lastHit: StreamSummary | undefined;

  /** Write the beacon that belongs at the current offset. */
  #beacon(remaining: number): void {
    const streams = this.#streams;
    const count = Math.min(streams.length, this.#markersPerBeacon);
    const chosen: { key: Uint8Array; marker: Marker }[] = [];
    const first = streams.length > 0 ? this.#beaconCount % streams.length : 0;
    for (let i = 0; i < count; i++) {
      const summary = streams[(first + i) % streams.length];
      chosen.push({
        key: summary.key,
        marker: {
          streamKey: summary.streamKey,
          shardId: summary.shardId,
          seqNo: BigInt(summary.seqNo),
          timestamp: summary.timestamp,
          runningChecksum: summary.running,
        },
      });
    }
    this.begin(maxBeaconSize(this.beaconInterval));
    const end = putBeacon(this.#out, this.#view, this.#length, remaining, chosen);
    this.#offset += end - this.#length;
    this.#length = end;
    this.#beaconCount += count;
  }
}
