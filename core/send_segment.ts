/**
 * Single sends queued together, kept as columns, and the receipts `send()`
 * returns for them.
 *
 * The user's loop queues every unawaited `send()` before the first is
 * written. Had each send an object in the queue, all of them would live until
 * written: the garbage collector would copy each to the old generation and
 * mark it there (on Deno the loop's collection pauses were 3 times raw
 * @platformatic/kafka's over the same sends; 2 times with this queue, where
 * Node went from 1.8 to 1.6 times). Here the queue holds a few arrays per
 * segment; the receipt points to its segment and is not held by it, so a
 * receipt nobody keeps dies young. A receipt awaited before its segment is
 * written is held until then, to be settled.
 *
 * @module
 */
import type { MessageHeader, PayloadInput, SendOptions, StreamKey } from "../types.ts";
import type { PendingSend, SendResult, SendResults } from "./driver.ts";
import { LazyPromise } from "./lazy_receipt.ts";
import { payloadSize } from "./message.ts";
import type { TextChunk } from "./text_chunks.ts";

/**
 * A send as the driver writes it. A class, not an object literal: V8 counts how
 * many of a literal's objects outlive a scavenge, and those of a write in
 * flight do; it may then allocate all of that literal's objects in the old
 * generation (allocation-site pretenuring), where a dead one keeps its young
 * payload alive until the next full collection. Instances of a class, and
 * arrays made by `map`, are not pretenured that way.
 */
export class QueuedSend implements PendingSend {
  /** Its stream. */
  readonly streamKey: StreamKey;
  /** Its payload. */
  readonly payload: PayloadInput;
  /** Its key and headers, if any. */
  readonly options: SendOptions | undefined;

  /** A send of `payload` to `streamKey`, with its `options`. */
  constructor(streamKey: StreamKey, payload: PayloadInput, options: SendOptions | undefined) {
    this.streamKey = streamKey;
    this.payload = payload;
    this.options = options;
  }
}

/** The promise of one send of a {@link SendSegment}: its outcome is the segment's. */
class SendReceipt extends LazyPromise<MessageHeader> {
  readonly #segment: SendSegment;
  readonly #index: number;

  constructor(segment: SendSegment, index: number) {
    super();
    this.#segment = segment;
    this.#index = index;
  }

  protected outcome(): MessageHeader | Error | undefined {
    return this.#segment.resultOf(this.#index);
  }

  protected override awaitedPending(): void {
    this.#segment.wait(this);
  }

  /** Settle the promise made while it was pending. */
  settle(): void {
    this.settleMade(this.outcome()!);
  }
}

/**
 * Consecutive single sends, written in one driver write: their stream keys,
 * payloads and options as columns (a column all of one value is that value),
 * and once written, their results.
 */
export class SendSegment {
  /** How many sends it holds. */
  length = 0;
  /** The stream key of every send, until one differs (then `#keys` holds them all). */
  readonly #key: StreamKey;
  #keys: StreamKey[] | undefined;
  /** Each send's payload as given, or the chunk holding its encoded text. */
  #payloads: (PayloadInput | TextChunk)[] = [];
  /** Where each encoded text starts in its chunk; -1 for a payload as given. */
  #starts: number[] = [];
  /** Where each encoded text ends in its chunk. */
  #ends: number[] = [];
  /** Each send's options, once one has some. */
  #options: (SendOptions | undefined)[] | undefined;
  /** Each send's result, once written. */
  #results: SendResults | undefined;
  /** The result of a send the driver gave none for. */
  #missing: Error | undefined;
  /** The receipts awaited before the segment was written. */
  #waiting: SendReceipt[] | undefined;
  /** The chunks its texts are in, each held until written. */
  #chunks: TextChunk[] | undefined;

  /** A segment whose first send goes to `streamKey`. */
  constructor(streamKey: StreamKey) {
    this.#key = streamKey;
  }

  /** Add a send of `payload` as given. Returns its receipt. */
  add(
    streamKey: StreamKey,
    payload: PayloadInput,
    options: SendOptions | undefined,
  ): Promise<MessageHeader> {
    return this.#add(streamKey, payload, -1, 0, options);
  }

  /** Add a send of the text encoded at `start`..`end` of `chunk`. Returns its receipt. */
  addText(
    streamKey: StreamKey,
    chunk: TextChunk,
    start: number,
    end: number,
    options: SendOptions | undefined,
  ): Promise<MessageHeader> {
    const chunks = this.#chunks ??= [];
    if (chunks[chunks.length - 1] !== chunk) {
      chunk.hold();
      chunks.push(chunk);
    }
    return this.#add(streamKey, chunk, start, end, options);
  }

  #add(
    streamKey: StreamKey,
    payload: PayloadInput | TextChunk,
    start: number,
    end: number,
    options: SendOptions | undefined,
  ): Promise<MessageHeader> {
    const index = this.length++;
    if (this.#keys !== undefined) this.#keys.push(streamKey);
    else if (streamKey !== this.#key) {
      this.#keys = new Array<StreamKey>(index).fill(this.#key);
      this.#keys.push(streamKey);
    }
    if (options !== undefined || this.#options !== undefined) {
      (this.#options ??= new Array<SendOptions | undefined>(index).fill(undefined)).push(options);
    }
    this.#payloads.push(payload);
    this.#starts.push(start);
    this.#ends.push(end);
    return new SendReceipt(this, index);
  }

  /** The sends as the driver writes them (encoded texts as views of their chunks). */
  pending(): PendingSend[] {
    const key = this.#key, keys = this.#keys, options = this.#options, payloads = this.#payloads;
    const ends = this.#ends;
    return this.#starts.map((start, i) =>
      new QueuedSend(
        keys === undefined ? key : keys[i],
        start < 0
          ? payloads[i] as PayloadInput
          : (payloads[i] as TextChunk).bytes.subarray(start, ends[i]),
        options?.[i],
      )
    );
  }

  /** The size in bytes of send `index`'s payload. */
  sizeOf(index: number): number {
    const start = this.#starts[index];
    return start < 0
      ? payloadSize(this.#payloads[index] as PayloadInput)
      : this.#ends[index] - start;
  }

  /**
   * Written: keep `results` (one per send, in order; `missing` for a send
   * without one) and let go of the sends and their chunks (for reuse if
   * `allWritten`: else the client may still read a failed send's bytes); settle
   * the receipts awaited meanwhile.
   */
  settle(results: SendResults, missing: Error | undefined, allWritten: boolean): void {
    this.#results = results;
    this.#missing = missing;
    if (this.#chunks !== undefined) { for (const chunk of this.#chunks) chunk.release(allWritten); }
    this.#keys = this.#options = this.#chunks = undefined;
    this.#payloads = this.#starts = this.#ends = [];
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting !== undefined) { for (const receipt of waiting) receipt.settle(); }
  }

  /** Send `index`'s result, or `undefined` while it is not written. */
  resultOf(index: number): SendResult | undefined {
    const results = this.#results;
    return results === undefined ? undefined : results.at(index) ?? this.#missing;
  }

  /** Hold `receipt` until written, to settle it then. */
  wait(receipt: SendReceipt): void {
    (this.#waiting ??= []).push(receipt);
  }
}
