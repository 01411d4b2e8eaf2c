/**
 * Fetching from a reader, shared by consumers and load-balanced groups:
 * batches of messages in file order, following the file when live, damaged
 * bytes as a {@link Fault} in their place (reading goes on after them), and
 * the end: an end-of-stream message, the end of a replay (what the file held
 * when reading began), or the file's removal.
 *
 * @module
 */
import { type Message, StreamError } from "../../types.ts";
import { Fault, type Fetched } from "../../core/driver.ts";
import { sleep } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import { FormatError } from "./format.ts";
import { AT_END, type MessageReader } from "./reader.ts";

/** How long a live reader waits before reading bad-looking bytes again (a write may be under way). */
const REREAD_MS = 25;

/** Reads batches from a reader; after the end, every fetch rejects with the end's reason. */
export class FileSource {
  /** The reader (moved by rewinds and seeks). */
  readonly reader: MessageReader;
  readonly #live: boolean;
  /** A replay ends here: the file's size when the source was made. */
  readonly #endAt: number;
  /** A fault met after messages already taken: the next fetch returns it. */
  #fault: Fault | undefined;
  #ended: StreamError | undefined;
  /** The offset of bad bytes read once already (a live reader looks twice). */
  #reread = -1;

  /** A source over `reader`; `live`: wait for the file to grow instead of ending. */
  constructor(reader: MessageReader, live: boolean) {
    this.reader = reader;
    this.#live = live;
    this.#endAt = reader.knownSize;
  }

  /** After a move: forget a pending fault and an end not yet reported (reading finds it again). */
  moved(): void {
    this.#fault = undefined;
    this.#ended = undefined;
    this.#reread = -1;
  }

  /**
   * Up to `max` messages that `accept` takes, in order, or a fault; waits for the
   * first when live. Rejects with `StreamError("Closed")` once the stream has ended.
   */
  async fetch(
    max: number,
    signal: AbortSignal,
    accept: (message: FileMessage) => boolean,
  ): Promise<Fetched> {
    const reader = this.reader;
    const got: Message[] = [];
    for (;;) {
      if (this.#fault !== undefined) {
        if (got.length > 0) return got;
        const fault = this.#fault;
        this.#fault = undefined;
        return fault;
      }
      if (this.#ended !== undefined) {
        if (got.length > 0) return got;
        throw this.#ended;
      }
      if (got.length >= max) return got;
      if (signal.aborted) return got;
      let result = reader.readBuffered();
      if (result === undefined) {
        if (got.length > 0) return got; // hand out what is here before any I/O
        const read = await reader.read();
        if (signal.aborted) return got;
        if (read === AT_END) {
          // Bytes left that no message can start at, with good messages after them:
          // damage (an impossible length), not a message still being written.
          const damage = reader.position < reader.knownSize
            ? await reader.damageAtEnd()
            : undefined;
          if (damage) {
            this.#fault = new Fault(damage);
            continue;
          }
          if (!this.#live) {
            this.#endReplay();
            continue;
          }
          await reader.waitForGrowth(signal);
          continue;
        }
        result = read;
      }
      if (result instanceof FormatError) {
        // A live file may be read while a write is under way: look again once before reporting.
        if (this.#live && this.#reread !== result.offset) {
          if (got.length > 0) return got;
          this.#reread = result.offset;
          await sleep(REREAD_MS, signal).catch(() => {});
          reader.reread();
          continue;
        }
        this.#fault = new Fault(await reader.resync(result));
        continue;
      }
      if (!this.#live && result.offset >= this.#endAt) {
        this.#end("end of file");
        continue;
      }
      if (result.isEndOfStream) {
        if (accept(result)) got.push(result);
        this.#end("end of stream");
        continue;
      }
      if (accept(result)) got.push(result);
    }
  }

  /** A replay at the end of what the file holds: a message cut short is a fault, then the end. */
  #endReplay(): void {
    const reader = this.reader;
    if (reader.position < Math.min(reader.knownSize, this.#endAt)) {
      this.#fault = new Fault(
        new FormatError(
          reader.path,
          reader.position,
          `message cut short: the file ends at ${reader.knownSize}`,
        ),
      );
    }
    this.#end("end of file");
  }

  #end(what: string): void {
    this.#ended = new StreamError("Closed", `${this.reader.path}: ${what}`);
  }
}
