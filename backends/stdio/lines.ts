/**
 * Splitting a byte stream into lines, a chunk's worth of lines at a time.
 *
 * @module
 */
import { StreamError } from "../../types.ts";

const NEWLINE = 0x0a;

/**
 * Options of {@link LineSplitter}.
 *
 * @example
 * ```ts
 * import { LineSplitter, type LineSplitterOptions } from "@seastreamer/seastreamer/stdio";
 *
 * const options: LineSplitterOptions = {
 *   maxLineBytes: 4,
 *   onOverlong: (error) => console.log(error.message), // line longer than 4 bytes dropped
 * };
 * const input = ReadableStream.from([new TextEncoder().encode("ok\ntoo long\nfine\n")]);
 * for await (const lines of input.pipeThrough(new LineSplitter(options))) {
 *   console.log(lines.map((line) => new TextDecoder().decode(line))); // [ "ok", "fine" ]
 * }
 * ```
 */
export interface LineSplitterOptions {
  /** The longest line kept, in bytes (default 64 MiB); longer lines are reported and dropped. */
  maxLineBytes?: number;
  /** Called for each dropped over-long line. Default: the stream errors. */
  onOverlong?: (error: StreamError) => void;
}

/**
 * A `TransformStream` from bytes to arrays of lines (without their `\n`).
 * Lines are views into the input chunks where they fit in one; a line that
 * spans chunks is copied once. A last line without `\n` is emitted at the end.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "@seastreamer/seastreamer/stdio";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("a\nb")]);
 * for await (const lines of input.pipeThrough(new LineSplitter())) {
 *   console.log(lines.length);
 * }
 * ```
 */
export class LineSplitter extends TransformStream<Uint8Array, Uint8Array[]> {
  /** A splitter with the given limits. */
  constructor(options: LineSplitterOptions = {}) {
    const maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let dropping = false;
    const overlong = (controller: TransformStreamDefaultController<Uint8Array[]>) => {
      const error = new StreamError(
        "Backend",
        `line longer than ${maxLineBytes} bytes dropped`,
      );
      if (options.onOverlong) options.onOverlong(error);
      else controller.error(error);
    };
    const joinPending = (tail: Uint8Array): Uint8Array => {
      const line = new Uint8Array(pendingBytes + tail.byteLength);
      let offset = 0;
      for (const part of pending) {
        line.set(part, offset);
        offset += part.byteLength;
      }
      line.set(tail, offset);
      pending = [];
      pendingBytes = 0;
      return line;
    };
    super({
      transform(chunk, controller) {
        const lines: Uint8Array[] = [];
        let start = 0;
        let newline = chunk.indexOf(NEWLINE);
        while (newline >= 0) {
          const tail = chunk.subarray(start, newline);
          if (dropping) {
            dropping = false;
          } else if (pendingBytes + tail.byteLength > maxLineBytes) {
            pending = [];
            pendingBytes = 0;
            overlong(controller);
          } else {
            lines.push(pendingBytes > 0 ? joinPending(tail) : tail);
          }
          start = newline + 1;
          newline = chunk.indexOf(NEWLINE, start);
        }
        if (start < chunk.byteLength && !dropping) {
          const rest = chunk.subarray(start);
          if (pendingBytes + rest.byteLength > maxLineBytes) {
            pending = [];
            pendingBytes = 0;
            dropping = true;
            overlong(controller);
          } else {
            pending.push(rest);
            pendingBytes += rest.byteLength;
          }
        }
        if (lines.length > 0) controller.enqueue(lines);
      },
      flush(controller) {
        if (pendingBytes > 0) controller.enqueue([joinPending(new Uint8Array(0))]);
      },
    });
  }
}
