/**
 * The stdio backend's options.
 *
 * @module
 */
import type { StreamError } from "../../types.ts";

/**
 * Options of the stdio backend's streamer.
 *
 * @example
 * ```ts
 * import { SeaStreamer, type StdioConnectOptions } from "@seastreamer/seastreamer";
 *
 * const written: string[] = [];
 * const stdio: StdioConnectOptions = {
 *   input: ReadableStream.from([new TextEncoder().encode("[orders] hi\n")]),
 *   output: new WritableStream({
 *     write: (bytes) => void written.push(new TextDecoder().decode(bytes)),
 *   }),
 * };
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio });
 * const message = await (await streamer.createConsumer(["orders"])).next();
 * const producer = await streamer.createProducer("copies");
 * await producer.send(message.payload.text());
 * console.log(written.join("")); // [… | copies | 0] hi
 * ```
 */
export interface StdioConnectOptions {
  /** Read messages from this stream instead of the process's stdin. */
  input?: ReadableStream<Uint8Array>;
  /** Write messages to this stream instead of the process's stdout. */
  output?: WritableStream<Uint8Array>;
  /** Also deliver what this streamer's producers send to its own consumers. */
  loopback?: boolean;
  /**
   * Called with a `StreamError("Backend")` for each input line whose header cannot be
   * parsed (the line is skipped, reading goes on). Default: the connect options' `logger`
   * (as a warning), else print the error on stderr.
   */
  onParseError?: (error: StreamError) => void;
}
