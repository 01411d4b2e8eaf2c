/**
 * The process's standard streams as web streams, with backpressure.
 *
 * @module
 */
import process from "node:process";
import { runtimeName } from "./detect.ts";
import { webReadable, webWritable } from "./node_streams.ts";

interface DenoStd {
  stdin: { readable: ReadableStream<Uint8Array>; isTerminal(): boolean };
  stdout: { write(bytes: Uint8Array): Promise<number>; isTerminal(): boolean };
  stderr: { write(bytes: Uint8Array): Promise<number>; isTerminal(): boolean };
}

function deno(): DenoStd {
  return (globalThis as unknown as { Deno: DenoStd }).Deno;
}

function writableFromDeno(
  target: { write(bytes: Uint8Array): Promise<number> },
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      let offset = 0;
      while (offset < chunk.byteLength) offset += await target.write(chunk.subarray(offset));
    },
  });
}

let stdinStream: ReadableStream<Uint8Array> | undefined;

/**
 * The process's standard input as a byte stream (the same stream on every call).
 *
 * @example
 * ```ts ignore
 * import { stdin } from "@seastreamer/seastreamer/runtime";
 *
 * for await (const chunk of stdin()) console.log(chunk.byteLength);
 * ```
 */
export function stdin(): ReadableStream<Uint8Array> {
  stdinStream ??= runtimeName === "deno" ? deno().stdin.readable : webReadable(process.stdin, 4);
  return stdinStream;
}

/**
 * The process's standard output as a byte stream that honours backpressure.
 * Closing it flushes; the file descriptor stays open.
 *
 * @example
 * ```ts
 * import { stdout } from "@seastreamer/seastreamer/runtime";
 *
 * const writer = stdout().getWriter();
 * await writer.write(new TextEncoder().encode("hello\n"));
 * writer.releaseLock();
 * ```
 */
export function stdout(): WritableStream<Uint8Array> {
  return runtimeName === "deno"
    ? writableFromDeno(deno().stdout)
    : webWritable(process.stdout, { endOnClose: false });
}

/**
 * The process's standard error as a byte stream; see {@link stdout}.
 *
 * @example
 * ```ts
 * import { stderr } from "@seastreamer/seastreamer/runtime";
 *
 * const writer = stderr().getWriter();
 * await writer.write(new TextEncoder().encode("warning: input ended early\n"));
 * writer.releaseLock();
 * ```
 */
export function stderr(): WritableStream<Uint8Array> {
  return runtimeName === "deno"
    ? writableFromDeno(deno().stderr)
    : webWritable(process.stderr, { endOnClose: false });
}

/**
 * Write one line of text to standard error, without waiting (for diagnostics).
 *
 * @example
 * ```ts
 * import { printError } from "@seastreamer/seastreamer/runtime";
 *
 * printError("warning: something odd");
 * ```
 */
export function printError(line: string): void {
  process.stderr.write(line.endsWith("\n") ? line : line + "\n");
}

/**
 * Whether the given standard stream is a terminal (progress output is only shown on one).
 *
 * @example
 * ```ts
 * import { isTerminal } from "@seastreamer/seastreamer/runtime";
 *
 * // Progress lines only for a person watching, not for a log file or a pipe:
 * const showProgress = isTerminal("stderr");
 * console.log(typeof showProgress); // boolean
 * ```
 */
export function isTerminal(stream: "stdin" | "stdout" | "stderr"): boolean {
  if (runtimeName === "deno") return deno()[stream].isTerminal();
  return Boolean((process[stream] as { isTTY?: boolean }).isTTY);
}

/**
 * Whether `error` says the reader of an output went away (a broken pipe:
 * `seastreamer consume … | head -n 1`), on any runtime.
 *
 * @example
 * ```ts
 * import { isBrokenPipe } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(isBrokenPipe(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))); // true
 * ```
 */
export function isBrokenPipe(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (code === "EPIPE" || cause.name === "BrokenPipe" || code === "ERR_STREAM_DESTROYED") {
      return true;
    }
    cause = cause.cause;
  }
  return false;
}
