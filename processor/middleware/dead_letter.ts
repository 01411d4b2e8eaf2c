/**
 * Dead-letter streams: a message that failed is parked, with its error, instead
 * of stopping the processor.
 *
 * @module
 */
import type { Message, MessageHeader, StreamKey } from "../../types.ts";
import { RetriesExhaustedError } from "../errors.ts";
import { encodeBase64 } from "../../core/message.ts";
import type { HandlerContext, Output, UniversalMiddleware } from "../types.ts";
import { universal } from "./universal.ts";

/**
 * Options of {@link deadLetter}.
 *
 * @example
 * ```ts
 * import { deadLetter, type DeadLetterOptions, Router } from "@seastreamer/seastreamer/processor";
 *
 * const lines: string[] = [];
 * const output = new WritableStream({
 *   write: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 * });
 * const input = ReadableStream.from([new TextEncoder().encode("[orders] not json\n")]);
 * const options: DeadLetterOptions = { stream: (header) => `${header.streamKey}.failed` };
 * const router = new Router({ middleware: [deadLetter(options)] });
 * router.handle("stdio:///orders", (message) => message.payload.json(), {
 *   connect: { stdio: { input, output } },
 * });
 * await router.run(); // the processor goes on; the message is parked
 * console.log(lines.join("")); // [… | orders.failed | 0] {"error":"…","errorName":"StreamError",…}
 * ```
 */
export interface DeadLetterOptions {
  /** The dead-letter stream of a message (default `<stream>.dlq`, on the input's backend). */
  stream?: (header: MessageHeader) => StreamKey;
}

/**
 * What a dead-letter message holds (as JSON, so every backend can carry it).
 *
 * @example Reading a dead-letter stream back
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 * import type { DeadLetterRecord } from "@seastreamer/seastreamer/processor";
 *
 * const parked = '{"error":"bad","errorName":"Error","attempts":3,"stream":"orders","shard":0,' +
 *   '"seq":"41","timestamp":"2026-01-01T00:00:00.000Z","payload":"oops"}';
 * const input = ReadableStream.from([new TextEncoder().encode(`[orders.dlq] ${parked}\n`)]);
 * await using streamer = await SeaStreamer.connect("stdio://", { stdio: { input } });
 * const consumer = await streamer.createConsumer(["orders.dlq"]);
 * const record = (await consumer.next()).payload.json<DeadLetterRecord>();
 * console.log(record.stream, BigInt(record.seq), record.error, record.payload); // orders 41n bad oops
 * ```
 */
export interface DeadLetterRecord {
  /** The error's message. */
  error: string;
  /** The error's name (class). */
  errorName: string;
  /** Attempts made. */
  attempts: number;
  /** The original message's stream. */
  stream: StreamKey;
  /** Its shard. */
  shard: number;
  /** Its seqNo, as a decimal string. */
  seq: string;
  /** Its timestamp, ISO 8601. */
  timestamp: string;
  /** The original payload as text, when it is UTF-8. */
  payload?: string;
  /** The original payload in base64, when it is not UTF-8. */
  payloadBase64?: string;
}

/**
 * Catch a handler's failure and produce a {@link DeadLetterRecord} to the
 * message's dead-letter stream instead; the input is then committed as done.
 * Failures while the processor is stopping are not parked: the message stays
 * uncommitted and comes again after a restart.
 *
 * @example
 * ```ts
 * import { deadLetter, retry, Router } from "@seastreamer/seastreamer/processor";
 *
 * new Router({ middleware: [deadLetter({ stream: (h) => `${h.streamKey}.failed` }), retry()] });
 * ```
 */
export function deadLetter(options: DeadLetterOptions = {}): UniversalMiddleware {
  const streamOf = options.stream ?? ((header: MessageHeader) => `${header.streamKey}.dlq`);
  return universal((next) => async (work, context) => {
    try {
      return await next(work, context);
    } catch (error) {
      if (context.signal.aborted) throw error;
      // A failed batch: each of its messages goes to its dead-letter stream.
      if (Array.isArray(work)) {
        return (work as readonly Message[]).map((m) => deadLetterOf(m, error, context, streamOf));
      }
      return deadLetterOf(work as Message, error, context, streamOf);
    }
  });
}

function deadLetterOf(
  message: Message,
  error: unknown,
  context: HandlerContext,
  streamOf: (header: MessageHeader) => StreamKey,
): Output {
  const cause = error instanceof RetriesExhaustedError ? error.cause : error;
  const { header, payload } = message;
  const record: DeadLetterRecord = {
    error: cause instanceof Error ? cause.message : String(cause),
    errorName: cause instanceof Error ? cause.name : typeof cause,
    attempts: error instanceof RetriesExhaustedError ? error.attempts : context.attempt,
    stream: header.streamKey,
    shard: header.shardId,
    seq: header.seqNo.toString(),
    timestamp: header.timestamp.toISOString(),
  };
  try {
    record.payload = payload.text();
  } catch {
    record.payloadBase64 = encodeBase64(payload.bytes());
  }
  return { payload: JSON.stringify(record), stream: streamOf(header), deadLetter: true };
}
