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
 * @module
 */
import { utf8Chunk, writeUtf8 } from "../runtime/bytes.ts";

/** Each chunk's size (a longer text gets a chunk of its own). */
const CHUNK_BYTES = 256 * 1024;
/** The producer keeps texts longer than this (UTF-16 units) as strings: beside their bytes, their few objects cost little. */
export const MAX_CHUNKED_TEXT = 16 * 1024;

/**
 * Encodes texts one after another into chunks. A chunk is never written
 * twice: the views of its bytes stay valid for as long as anyone holds them.
 */
export class TextChunks {
  /** The chunk the last text went into. */
  chunk: Uint8Array = utf8Chunk(0);
  /** Where the next text goes in `chunk`; after `put`, where its text ends. */
  position = 0;

  /**
   * Encode `text` after what `chunk` holds, in a fresh chunk when it might not
   * fit; returns where it starts (it ends at `position`).
   */
  put(text: string): number {
    // At most 3 UTF-8 bytes per UTF-16 unit.
    const most = text.length * 3;
    if (this.chunk.length - this.position < most) {
      this.chunk = utf8Chunk(Math.max(CHUNK_BYTES, most));
      this.position = 0;
    }
    const start = this.position;
    this.position = start + writeUtf8(text, this.chunk, start);
    return start;
  }
}
