/**
 * Helpers shared by the tests: unique names, receiving with a deadline,
 * expecting a `StreamError` code.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Consumer,
  type Logger,
  type Message,
  StreamError,
  type StreamErrorCode,
} from "../../mod.ts";
import { timeout } from "../../runtime/mod.ts";

let counter = 0;

/** A stream key no other test (or earlier run) uses. */
export function uniqueName(prefix = "t"): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${
    Math.random().toString(36).slice(2, 8)
  }-${counter}`;
}

/** The next `count` messages, or a `Timeout` failure after `ms`. */
export async function take(consumer: Consumer, count: number, ms = 20_000): Promise<Message[]> {
  const messages: Message[] = [];
  const work = (async () => {
    while (messages.length < count) messages.push(await consumer.next());
  })();
  try {
    await timeout(work, ms, `receiving ${count} messages (got ${messages.length})`);
  } catch (error) {
    throw new Error(`${(error as Error).message}; got ${messages.length} of ${count}`, {
      cause: error,
    });
  }
  return messages;
}

/** Assert that nothing arrives within `ms`. */
export async function expectNothing(consumer: Consumer, ms = 300): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("quiet")), ms);
  try {
    const message = await consumer.next(controller.signal);
    assert.fail(
      `expected no message, got ${message.payload.text()} on ${message.header.streamKey}`,
    );
  } catch (error) {
    if (!(error instanceof Error) || error.message !== "quiet") throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Assert that `promise` (or `fn`) fails with a `StreamError` of `code`. */
export async function rejectsWith(
  action: Promise<unknown> | (() => unknown),
  code: StreamErrorCode,
): Promise<StreamError> {
  let caught: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof StreamError, `expected StreamError(${code}), got ${caught}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught}`);
  return caught;
}

/** The payloads of `messages` as text. */
export function texts(messages: readonly Message[]): string[] {
  return messages.map((message) => message.payload.text());
}

/** The payloads `consumer` delivers until it ends (`live: false`), within `ms`. */
export async function untilEnd(consumer: Consumer, ms = 20_000): Promise<string[]> {
  const seen: string[] = [];
  await timeout(
    (async () => {
      for await (const message of consumer) seen.push(message.payload.text());
    })(),
    ms,
    "the consumer to end",
  );
  return seen;
}

/** A logger that keeps every line it is given (and its details, as JSON) in `lines`. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const record = (message: string, details?: Record<string, unknown>) =>
    void lines.push(message, JSON.stringify(details ?? {}));
  return { logger: { debug: record, info: record, warn: record, error: record }, lines };
}
