/**
 * The one writer of a file in this process: every producer (of every streamer)
 * on the same path shares it, as SeaStreamer's process-wide `Writers` do. It
 * numbers each stream's messages, encodes batches into one buffer and writes
 * each with one call; opening an existing file it finds where to append
 * (cutting a torn last message or a trailing end-of-stream message) and, on
 * the first message to a stream the file already holds, that stream's last
 * seq, from the beacons. Writers in other processes may append to the same
 * file: batches are written under the file's lock ({@link FileLock}), after
 * reading what the others appended since (their seqs and the beacons' summaries).
 * A writer keeps the lock across batches that follow one another at once (a
 * loop of sends) for a while, and hands it over to a waiting writer then
 * ({@link FileLock.hold}): one lock round trip per batch cost a fifth of the writing time.
 *
 * @module
 */
import { StreamError, type StreamKey } from "../../types.ts";
import type { SendResult } from "../../core/driver.ts";
import { baseName, type OpenFile, openFile, resolvePath, sleep } from "../../runtime/mod.ts";
import { MessageEncoder, MIN_BUFFER } from "./encoder.ts";
import {
  type FileHeader,
  FormatError,
  HEADER_SIZE,
  looksLikeHeader,
  maxBeaconSize,
  MESSAGE_OVERHEAD,
} from "./format.ts";
import { AT_END, MessageReader } from "./reader.ts";
import { FileLock } from "./lock.ts";
import type { FileMessage } from "./message.ts";
import { Recovery, type StreamState } from "./recovery.ts";
import { notifyWritten } from "./activity.ts";
import { StoredHeader } from "./message.ts";

/** A message to append: its stream and its payload (text is written as UTF-8). */
export interface AppendItem {
  /** Its stream. */
  readonly streamKey: StreamKey;
  /** Its payload. */
  readonly payload: string | Uint8Array;
}

/** How a writer is opened. */
export interface WriterOptions {
  /** The beacon interval of a new file (an existing file keeps its own). */
  beaconInterval: number;
  /** The largest size the file may reach, in bytes. */
  fileSizeLimit: number;
}

/** A stream's last seq as this writer numbers it: a number while it is a safe integer. */
interface Counter {
  seqNo: number | bigint;
}

/**
 * The largest buffer encoded for one write (the encoder recycles buffers up to
 * this size): bigger batches are written in pieces while encoding goes on.
 */
const MAX_BATCH_BUFFER = 4 * MIN_BUFFER;

/** The scratch buffer's size: a longer text payload gets an array of its own. */
const MAX_SCRATCH = 64 * 1024;

const utf8 = new TextEncoder();

/** How long an opening writer waits for the header of a file another process is creating, ms. */
const HEADER_WAIT_MS = 2000;

const writers = new Map<string, Promise<SharedWriter>>();
const closing = new Map<string, Promise<void>>();

/**
 * The writer of `path` (shared with every other user in this process), opened
 * if needed; give it back with {@link SharedWriter.release}.
 */
export async function acquireWriter(path: string, options: WriterOptions): Promise<SharedWriter> {
  const key = resolvePath(path);
  for (;;) {
    const closed = closing.get(key);
    if (closed === undefined) break;
    await closed;
  }
  let opening = writers.get(key);
  if (opening === undefined) {
    opening = SharedWriter.open(path, key, options);
    writers.set(key, opening);
    opening.catch(() => writers.delete(key));
  }
  const writer = await opening;
  writer.refs++;
  return writer;
}

/** The shared writer of one file. */
export class SharedWriter {
  /** The path as first given. */
  readonly path: string;
  /** The absolute path. */
  readonly absolutePath: string;
  /** The file's header. */
  readonly header: FileHeader;
  /** Users holding it. @internal */
  refs = 0;
  readonly #file: OpenFile;
  readonly #encoder: MessageEncoder;
  readonly #limit: number;
  /** Where this writer began appending: what lies before was written by others. */
  readonly #startedFrom: number;
  readonly #streams = new Map<StreamKey, Counter>();
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;
  #recovery: Recovery | undefined;
  #recovering: Promise<void> = Promise.resolve();
  readonly #lock: FileLock;
  /** The reader of what other processes append (opened when they first do). */
  #tail: MessageReader | undefined;
  /** The last batch (or close) under way: batches take the lock one at a time. */
  #turn: Promise<unknown> = Promise.resolve();
  /** How many turns started: a release planned after one is dropped if another came. */
  #turns = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where a text payload is encoded before it is copied into the batch (no array per message). */
  #scratch = new Uint8Array(MAX_SCRATCH);

  private constructor(
    path: string,
    absolutePath: string,
    file: OpenFile,
    header: FileHeader,
    encoder: MessageEncoder,
    limit: number,
    lock: FileLock,
  ) {
    this.path = path;
    this.absolutePath = absolutePath;
    this.#lock = lock;
    this.#file = file;
    this.header = header;
    this.#encoder = encoder;
    this.#limit = limit;
    this.#startedFrom = encoder.offset;
  }

  /** Open `path` (it must exist) for appending. */
  static async open(path: string, absolutePath: string, options: WriterOptions) {
    const file = await openFile(path, { write: true });
    const lock = new FileLock(path);
    try {
      await lock.acquire();
    } catch (error) {
      await file.close();
      throw error;
    }
    try {
      let size = await file.size();
      // A file another process has just created gets its header in a moment (not under the lock).
      for (let waited = 0; size < HEADER_SIZE && waited < HEADER_WAIT_MS; waited += 10) {
        await sleep(10);
        size = await file.size();
      }
      let header: FileHeader;
      let encoder: MessageEncoder;
      let padding = 0;
      if (size < HEADER_SIZE) {
        // Empty, or a header cut short by a crash while creating it: start afresh.
        const head = new Uint8Array(size);
        await file.read(head, 0);
        if (!looksLikeHeader(head)) {
          throw new FormatError(path, 0, "not a SeaStreamer file (no 53 73 01 byte mark)");
        }
        header = {
          fileName: baseName(path),
          createdAt: Date.now(),
          beaconInterval: options.beaconInterval,
        };
        if (size > 0) await file.truncate(0);
        encoder = MessageEncoder.forNewFile(header);
      } else {
        const end = await findAppendPoint(path);
        header = end.header;
        if (end.at < size) await file.truncate(end.at);
        padding = end.at > size ? end.at - size : 0;
        encoder = new MessageEncoder(header.beaconInterval, end.at);
        if (end.at % header.beaconInterval === 0) encoder.emptyBeacon();
      }
      if (padding > 0) {
        // After bytes that cannot be read, new messages start at the next beacon.
        await file.write(new Uint8Array(padding), encoder.pendingStart - padding);
      }
      const writer = new SharedWriter(
        path,
        absolutePath,
        file,
        header,
        encoder,
        options.fileSizeLimit,
        lock,
      );
      await writer.#writeOut();
      return writer;
    } catch (error) {
      await file.close();
      throw error;
    } finally {
      await lock.release();
    }
  }

  /**
   * Number, encode and write `batch` (all to shard 0); one receipt per message.
   * Resolves once the bytes are written to the OS.
   */
  write(batch: readonly AppendItem[]): Promise<SendResult[]> {
    return this.#inTurn(() => this.#write(batch));
  }

  /** Run `work` after the batches before it, holding the file's lock, caught up with other writers. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.#turn.then(async () => {
      this.#turns++;
      if (this.#failure !== undefined) throw this.#failure;
      try {
        if (await this.#lock.hold()) await this.#catchUp();
        return await work();
      } catch (error) {
        await this.#lock.release();
        throw error;
      } finally {
        this.#letGoWhenIdle();
      }
    });
    this.#turn = turn.catch(() => {});
    return turn;
  }

  /** Give the lock back unless another batch starts before the next macrotask. */
  #letGoWhenIdle(): void {
    const turns = this.#turns;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#turns !== turns || !this.#lock.held) return;
      this.#turn = this.#turn.then(() => this.#turns === turns ? this.#lock.release() : undefined)
        .catch(() => {});
    }, 0);
  }

  async #write(batch: readonly AppendItem[]): Promise<SendResult[]> {
    if (this.#failure !== undefined) throw this.#failure;
    const streams = this.#streams;
    let unknown: Set<StreamKey> | undefined;
    let payloadBytes = 0;
    let keyBytes = 0;
    let lastKey: StreamKey | undefined;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const key = item.streamKey;
      const payload = item.payload;
      // A string's UTF-8 is at most three bytes per UTF-16 unit.
      payloadBytes += typeof payload === "string" ? payload.length * 3 : payload.length;
      keyBytes += key.length;
      // Batches mostly repeat one stream: look it up once per run of it.
      if (key === lastKey) continue;
      lastKey = key;
      if (!streams.has(key)) (unknown ??= new Set()).add(key);
    }
    if (unknown !== undefined) await this.#learn(unknown);
    if (this.#failure !== undefined) throw this.#failure;

    const encoder = this.#encoder;
    const now = Date.now();
    const worst = encoder.maxSize(batch.length, payloadBytes, keyBytes);
    // Near the size limit, look at each message; otherwise the whole batch fits.
    const checkEach = encoder.offset + worst > this.#limit;
    // One buffer for the whole batch, written with one call (if the batch is not huge).
    if (worst <= MAX_BATCH_BUFFER) encoder.begin(worst);
    const results: SendResult[] = new Array(batch.length);
    let full: StreamError | undefined;
    const beaconRoom = maxBeaconSize(encoder.beaconInterval);
    let counter: Counter | undefined;
    let counterKey: StreamKey | undefined;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      const key = item.streamKey;
      const payload = item.payload;
      const bytes = typeof payload === "string" ? this.#utf8(payload) : payload;
      if (checkEach && full === undefined) {
        if (encoder.offset + encoder.maxSize(1, bytes.length, key.length) > this.#limit) {
          full = new StreamError(
            "Backend",
            `${this.path}: the file size limit of ${this.#limit} bytes is reached`,
          );
        }
      }
      if (full !== undefined) {
        results[i] = full;
        continue;
      }
      if (key !== counterKey) {
        counter = this.#streams.get(key)!;
        counterKey = key;
      }
      const last = counter!.seqNo;
      const seqNo = typeof last === "number" && last < Number.MAX_SAFE_INTEGER
        ? last + 1
        : BigInt(last) + 1n;
      counter!.seqNo = seqNo;
      const size = MESSAGE_OVERHEAD + key.length + bytes.length + beaconRoom;
      if (size > encoder.room) {
        // Write what is encoded (the OS writes while we encode on), then go on in a fresh buffer.
        if (encoder.pendingLength > 0) this.#writeOut().catch(() => {});
        encoder.begin(size);
      }
      encoder.encode(key, 0, seqNo, now, bytes);
      results[i] = new StoredHeader(key, 0, seqNo, now);
    }
    await this.#writeOut();
    return results;
  }

  /** `text` as UTF-8: a view of the scratch buffer, valid until the next call. */
  #utf8(text: string): Uint8Array {
    if (text.length * 3 > MAX_SCRATCH) return utf8.encode(text);
    const { written } = utf8.encodeInto(text, this.#scratch);
    return this.#scratch.subarray(0, written);
  }

  /** Resolves once everything encoded so far is written. */
  async flush(): Promise<void> {
    await this.#turn;
    await this.#chain;
  }

  /**
   * Give the writer back. The last user closes it: with `endOfStream`, the
   * end-of-stream message is written first; the file is synced to the disk.
   */
  async release(endOfStream: boolean): Promise<void> {
    this.refs--;
    if (this.refs > 0) return;
    writers.delete(this.absolutePath);
    const done = this.#close(endOfStream);
    closing.set(this.absolutePath, done.catch(() => {}));
    try {
      await done;
    } finally {
      closing.delete(this.absolutePath);
    }
  }

  async #close(endOfStream: boolean): Promise<void> {
    try {
      await this.#turn;
      if (endOfStream && this.#failure === undefined) {
        await this.#inTurn(() => {
          this.#encoder.encodeEndOfStream(Date.now());
          return this.#writeOut();
        });
      }
      await this.#chain;
      clearTimeout(this.#idleTimer);
      await this.#lock.release();
      await this.#file.sync();
    } finally {
      clearTimeout(this.#idleTimer);
      // After a failure above, that failure is the error to report.
      if (this.#lock.held) await this.#lock.release().catch(() => {});
      await this.#file.close();
      await this.#recovery?.close();
      await this.#tail?.close();
    }
  }

  /** Write what is encoded, after the writes before it; a failed write breaks the writer. */
  #writeOut(): Promise<void> {
    if (this.#encoder.pendingLength === 0) return this.#chain;
    // Take the bytes now (encoding goes on in a fresh buffer); write them in turn.
    const start = this.#encoder.pendingStart;
    const bytes = this.#encoder.take();
    this.#chain = this.#chain.then(async () => {
      try {
        await this.#file.write(bytes, start);
      } catch (error) {
        this.#failure = error;
        throw error;
      }
      this.#encoder.recycle(bytes);
      notifyWritten(this.absolutePath);
    });
    return this.#chain;
  }

  /**
   * Take in what other processes appended since this writer's last write: the
   * seqs and summaries of their messages. A torn message at the end (a writer
   * killed mid-write: we hold the lock, so nobody is writing) is cut, as is a
   * trailing end-of-stream message; after damage at the end, writing goes on
   * at the next beacon, as when opening.
   */
  async #catchUp(): Promise<void> {
    const from = this.#encoder.offset;
    const size = await this.#file.size();
    if (size === from) return;
    if (size < from) {
      this.#failure = new StreamError(
        "Backend",
        `${this.path} was cut to ${size} bytes, below where this writer appends (${from})`,
      );
      throw this.#failure;
    }
    const reader = this.#tail ??= (await MessageReader.open(this.path))!;
    reader.rewindToOffset(from);
    let last: FileMessage | undefined;
    for (;;) {
      const result = await reader.readPastDamage();
      if (result === AT_END) break;
      last = result;
      if (result.isEndOfStream) continue;
      await this.#observe(result);
    }
    let end = reader.position;
    if (last?.isEndOfStream && last.end === end) end = last.offset;
    const current = await this.#file.size();
    if (end < current) await this.#file.truncate(end);
    this.#encoder.moveTo(end);
    if (end > current) await this.#file.write(new Uint8Array(end - current), current);
    // Ending on the interval, the file lacks the beacon that belongs there.
    if (end % this.#encoder.beaconInterval === 0) this.#encoder.emptyBeacon();
  }

  /** Count a message another writer appended: its stream's seq and summary. */
  async #observe(message: FileMessage): Promise<void> {
    const { streamKey, shardId, seqNo, timestamp } = message.header;
    if (!this.#streams.has(streamKey)) await this.#learn(new Set([streamKey]));
    this.#encoder.observe(streamKey, shardId, seqNo, timestamp.getTime(), message.checksum);
    if (shardId !== 0) return;
    const counter = this.#streams.get(streamKey)!;
    if (seqNo > BigInt(counter.seqNo)) {
      counter.seqNo = seqNo < BigInt(Number.MAX_SAFE_INTEGER) ? Number(seqNo) : seqNo;
    }
  }

  /** Find the last seq of `keys` in what the file held before this writer. */
  #learn(keys: Set<StreamKey>): Promise<void> {
    this.#recovering = this.#recovering.then(async () => {
      for (const key of keys) {
        if (this.#streams.has(key)) continue;
        let state: StreamState | undefined;
        if (this.#startedFrom > HEADER_SIZE) {
          this.#recovery ??= new Recovery(this.path, this.#startedFrom);
          try {
            state = await this.#recovery.lastOf(key);
          } catch (error) {
            this.#failure ??= error;
            throw error;
          }
        }
        if (state !== undefined) {
          this.#encoder.setSummary(key, 0, state.seqNo, state.timestamp, state.running);
        }
        const last = state?.seqNo ?? 0n;
        this.#streams.set(key, {
          seqNo: last < BigInt(Number.MAX_SAFE_INTEGER) ? Number(last) : last,
        });
      }
    });
    return this.#recovering;
  }
}

/** Where to append to an existing file, and its header. */
async function findAppendPoint(path: string): Promise<{ at: number; header: FileHeader }> {
  const reader = await MessageReader.open(path);
  if (reader === undefined) throw new StreamError("Backend", `${path} is empty`);
  try {
    const at = await reader.rewindToEnd();
    return { at, header: reader.header };
  } finally {
    await reader.close();
  }
}
