/**
 * Text payloads encoded as they are sent, into shared chunks of memory.
 *
 * A loop of unawaited `send(string)` calls queues every message before the
 * first is written. Kept as strings (ropes, as template literals build them),
 * they all survive to the old generation, and are flattened there when they
 * are finally encoded: the garbage collector then copies and marks them. Their
 * UTF-8 bytes, written at once into a chunk the collector never looks into,
 * let each string die young. Measured with 100,000 queued 256-byte strings,
 * queueing and writing took 0.55 to 0.75 of the time it took with strings on
 * Deno, Node and Bun, with a driver that does nothing. A driver opts in
 * (`textAsBytes`): the Kafka one does (backends/kafka/producer.ts).
 *
 * A chunk whose texts were all written is kept for the next texts, process-wide
 * (at most {@link MAX_POOLED_CHUNKS}, for a few seconds), where a fresh chunk
 * is fresh pages: on this project's machine each first touch of a page costs
 * about 10 µs, and a loop of 100,000 unawaited 256-byte sends (25 MiB of text)
 * faulted 4,000 to 11,000 times on Deno and Bun. The platformatic user produce
 * loop with chunks kept against without, in one process (9 rounds each, 3
 * trials): Bun 0.98, 1.07, 1.37 times as fast; Deno 1.01 to 1.05; Node 1.11 to
 * 1.22 (fewer external allocations for its collector to account for). A chunk
 * holding a text whose write failed is never reused: the client may still hold
 * its bytes.
 *
 * @module
 */
import { utf8Chunk, writeUtf8 } from "../runtime/bytes.ts";
import { backgroundTimeout } from "../runtime/timers.ts";

/** Each chunk's size (a longer text gets a chunk of its own). */
const CHUNK_BYTES = 256 * 1024;
/** The producer keeps texts longer than this (UTF-16 units) as strings: beside their bytes, their few objects cost little. */
export const MAX_CHUNKED_TEXT = 16 * 1024;
/** How many written chunks are kept for reuse, process-wide (32 MiB). */
export const MAX_POOLED_CHUNKS = 128;
/** The kept chunks are let go once none of them was reused for this long. */
const POOL_IDLE_MS = 5_000;

/**
 * Written chunks kept for reuse: all of them are dropped when none was taken
 * for `idleMs` (so they outlive their last use by at most twice that).
 */
export class ChunkPool {
  readonly #most: number;
  readonly #idleMs: number;
  #free: Uint8Array[] = [];
  #taken = false;
  #checking = false;

  /** A pool of at most `most` chunks, dropped after `idleMs` without reuse. */
  constructor(most: number, idleMs: number) {
    this.#most = most;
    this.#idleMs = idleMs;
  }

  /** How many chunks it holds. */
  get size(): number {
    return this.#free.length;
  }

  /** A kept chunk, if any. */
  take(): Uint8Array | undefined {
    const chunk = this.#free.pop();
    if (chunk !== undefined) this.#taken = true;
    return chunk;
  }

  /** Keep `chunk` (nothing may read or write it any more), unless the pool is full. */
  give(chunk: Uint8Array): void {
    if (this.#free.length >= this.#most) return;
    this.#free.push(chunk);
    this.#check();
  }

  #check(): void {
    if (this.#checking) return;
    this.#checking = true;
    backgroundTimeout(() => {
      this.#checking = false;
      if (!this.#taken) this.#free = [];
      this.#taken = false;
      if (this.#free.length > 0) this.#check();
    }, this.#idleMs);
  }
}

const pool = new ChunkPool(MAX_POOLED_CHUNKS, POOL_IDLE_MS);

/**
 * A chunk of encoded texts, and how many hold it: its {@link TextChunks} while
 * filling it, and each send segment with a text in it until written. Let go by
 * all, it goes back to the pool, unless a holder said its texts may still be read.
 */
export class TextChunk {
  /** Its memory. */
  readonly bytes: Uint8Array;
  #holders = 1;
  #reusable = true;

  /** A chunk over `bytes`, held by its filler. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** One more holder. */
  hold(): void {
    this.#holders++;
  }

  /** A holder lets go: `reusable` false if what it wrote from the chunk may still be read. */
  release(reusable: boolean): void {
    if (!reusable) this.#reusable = false;
    if (--this.#holders === 0 && this.#reusable && this.bytes.length === CHUNK_BYTES) {
      pool.give(this.bytes);
    }
  }
}

/**
 * Encodes texts one after another into chunks. A chunk is never written
 * twice while anyone may read its texts: the views of its bytes stay valid
 * until every send in it was written.
 */
export class TextChunks {
  /** The chunk the last text went into. */
  chunk: TextChunk = new TextChunk(utf8Chunk(0));
  /** Where the next text goes in `chunk`; after `put`, where its text ends. */
  position = 0;

  /**
   * Encode `text` after what `chunk` holds, in a fresh chunk when it might not
   * fit; returns where it starts (it ends at `position`).
   */
  put(text: string): number {
    // At most 3 UTF-8 bytes per UTF-16 unit.
    const most = text.length * 3;
    if (this.chunk.bytes.length - this.position < most) {
      this.chunk.release(true);
      const kept = most <= CHUNK_BYTES ? pool.take() : undefined;
      this.chunk = new TextChunk(kept ?? utf8Chunk(Math.max(CHUNK_BYTES, most)));
      this.position = 0;
    }
    const start = this.position;
    this.position = start + writeUtf8(text, this.chunk.bytes, start);
    return start;
  }

  /** Let go of the chunk being filled (its producer sends no more). */
  close(): void {
    this.chunk.release(true);
    this.chunk = new TextChunk(utf8Chunk(0));
    this.position = 0;
  }
}
