/**
 * The read loop shared by consumers and load-balanced groups: messages from a
 * reader to a sink, following the file when live, reporting bad bytes and
 * going on after them, ending on end-of-stream, at the end of a replayed
 * file, or when the file is removed.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import { sleep } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import { FormatError } from "./format.ts";
import { AT_END, type MessageReader } from "./reader.ts";

/** Where the loop puts what it reads. */
export interface PumpSink {
  /** Take `message`; a promise if the sink must make room first. */
  deliver(message: FileMessage): Promise<void> | void;
  /** Report bad bytes (reading goes on after them); a promise if the sink must make room first. */
  corrupt(error: FormatError): Promise<void> | void;
  /** The stream ended (end-of-stream message, end of a replayed file, file removed, failure). */
  end(reason: unknown): void;
}

/** How long a live reader waits before reading bad-looking bytes again (a write may be under way). */
const REREAD_MS = 25;

/**
 * Read from `reader` into `sink` until the stream ends or `signal` aborts.
 * `accept` picks the messages to deliver; end-of-stream is handled here.
 * With `live`, waits for the file to grow instead of ending at its end.
 */
export async function pump(
  reader: MessageReader,
  live: boolean,
  signal: AbortSignal,
  accept: (message: FileMessage) => boolean,
  sink: PumpSink,
): Promise<void> {
  let reread = -1;
  try {
    for (;;) {
      if (signal.aborted) return;
      let result = reader.readBuffered();
      if (result === undefined) {
        const read = await reader.read();
        if (signal.aborted) return;
        if (read === AT_END) {
          const damage = reader.position < reader.knownSize
            ? await reader.damageAtEnd()
            : undefined;
          if (damage) {
            const waiting = sink.corrupt(damage);
            if (waiting) await waiting;
            continue;
          }
          if (!live) {
            if (reader.position < reader.knownSize) {
              const cut = new FormatError(
                reader.path,
                reader.position,
                `message cut short: the file ends at ${reader.knownSize}`,
              );
              const waiting = sink.corrupt(cut);
              if (waiting) await waiting;
            }
            sink.end(new StreamError("Closed", `${reader.path}: end of file`));
            return;
          }
          await reader.waitForGrowth(signal);
          continue;
        }
        result = read;
      }
      if (result instanceof FormatError) {
        // A live file may be read while a write is under way: look again once before reporting.
        if (live && reread !== result.offset) {
          reread = result.offset;
          await sleep(REREAD_MS, signal).catch(() => {});
          reader.reread();
          continue;
        }
        const waiting = sink.corrupt(await reader.resync(result));
        if (waiting) await waiting;
        continue;
      }
      if (result.isEndOfStream) {
        if (accept(result)) {
          const waiting = sink.deliver(result);
          if (waiting) await waiting;
        }
        sink.end(new StreamError("Closed", `${reader.path}: end of stream`));
        return;
      }
      if (!accept(result)) continue;
      const waiting = sink.deliver(result);
      if (waiting) await waiting;
    }
  } catch (error) {
    if (!signal.aborted) sink.end(error);
  }
}
