/**
 * Adapters from Node's streams (which Deno and Bun also provide) to web streams.
 * Internal to runtime/.
 *
 * @module
 */
import type { Readable, Writable } from "node:stream";
import { StreamError } from "../types.ts";
import { plainView } from "./bytes.ts";

/**
 * A byte stream reading `source`, pausing it while nobody reads, so a slow
 * reader holds at most `highWaterMark` chunks.
 */
export function webReadable(source: Readable, highWaterMark = 8): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const finish = (error?: unknown) => {
        if (finished) return;
        finished = true;
        if (error) controller.error(error);
        else controller.close();
      };
      source.on("data", (chunk: Uint8Array) => {
        if (finished) return;
        controller.enqueue(plainView(chunk));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      });
      source.on("end", () => finish());
      source.on("close", () => finish());
      source.on("error", (error) => finish(error));
      source.pause();
    },
    pull() {
      source.resume();
    },
    cancel() {
      finished = true;
      source.destroy();
    },
  }, { highWaterMark });
}

/**
 * A byte sink writing to `target`: each write resolves once the bytes are handed
 * to the OS, so a slow peer slows the writer. With `endOnClose: false`, closing
 * the web stream leaves `target` open (for stdout and stderr).
 */
export function webWritable(
  target: Writable,
  options: { endOnClose?: boolean } = {},
): WritableStream<Uint8Array> {
  let failure: unknown;
  // Errors (EPIPE when the reader went away) arrive as 'error' events; without a
  // listener Node would end the process.
  target.on("error", (error) => failure = error);
  return new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure) return Promise.reject(failure);
      if (target.destroyed) return Promise.reject(new StreamError("Closed", "stream closed"));
      return new Promise<void>((resolve, reject) => {
        target.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
    },
    close() {
      if (options.endOnClose === false) return;
      return new Promise<void>((resolve) => target.end(() => resolve()));
    },
    abort() {
      if (options.endOnClose !== false) target.destroy();
    },
  });
}
