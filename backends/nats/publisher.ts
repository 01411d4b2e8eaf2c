/**
 * Publishing to JetStream, pipelined: each message goes out as a plain
 * publish whose reply subject is one of this streamer's own (`<inbox>.<id>`),
 * and one subscription takes the server's acknowledgements. A batch resolves
 * once every one of its messages is acknowledged or failed. (The client's
 * `js.publish` makes a request, a timer and a promise per message: several
 * times slower.)
 *
 * @module
 */
import type { MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { StreamError } from "../../types.ts";
import type { PendingSend, SendResult } from "../../core/driver.ts";
import { messageOf } from "../../core/errors.ts";
import type { NatsLibrary } from "./client.ts";
import { KEY_HEADER, NatsHeader } from "./message.ts";
import { subjectOf } from "./mapping.ts";

/** A batch waiting for its acknowledgements. */
interface InFlight {
  readonly firstId: number;
  readonly batch: readonly PendingSend[];
  readonly results: SendResult[];
  remaining: number;
  readonly done: () => void;
  /** After the first "no stream answered" of the batch: until when such refusals are tried again. */
  retryUntil?: number;
}

/** How soon a message no stream answered for is published again, ms. */
const RETRY_MS = 200;

// `"seq":` in a PubAck.
const SEQ = [0x22, 0x73, 0x65, 0x71, 0x22, 0x3a];

/** The stream sequence in a PubAck (`{"stream":"s","seq":7}`), or -1. */
function ackedSeq(data: Uint8Array): number {
  const last = data.length - SEQ.length;
  outer: for (let i = 0; i < last; i++) {
    for (let j = 0; j < SEQ.length; j++) if (data[i + j] !== SEQ[j]) continue outer;
    let value = 0;
    let k = i + SEQ.length;
    for (; k < data.length; k++) {
      const digit = data[k] - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    return k > i + SEQ.length ? value : -1;
  }
  return -1;
}

const decoder = new TextDecoder();

/** Why the server refused a publish, from its reply. */
function refusal(data: Uint8Array, headers: MsgHdrs | undefined, stream: string): StreamError {
  if (headers?.code === 503) {
    return new StreamError(
      "StreamKeyNotFound",
      `nats: no JetStream stream answered for ${stream} (it was deleted, or JetStream is starting)`,
    );
  }
  let description = decoder.decode(data);
  try {
    const reply = JSON.parse(description) as { error?: { description?: string } };
    description = reply.error?.description ?? description;
  } catch {
    // Not JSON: shown as it came.
  }
  return new StreamError(
    "Backend",
    `nats: the server refused a message to ${stream}: ${description}`,
  );
}

/** Publishes batches and matches the acknowledgements to them. */
export class Publisher {
  readonly #nc: NatsConnection;
  readonly #lib: NatsLibrary;
  readonly #prefix: string;
  readonly #sub: Subscription;
  #nextId = 1;
  /** Batches in flight, oldest first (an acknowledgement finds its batch by id). */
  #inFlight: InFlight[] = [];
  /** The last subject made, and its key (most messages repeat it). */
  #subjectKey = "";
  #subject = "";

  readonly #timeoutMs: number;

  /**
   * A publisher on `nc`, taking acknowledgements on a fresh inbox; a message
   * no stream answered for (JetStream is still starting after a restart) is
   * published again for up to `timeoutMs`.
   */
  constructor(lib: NatsLibrary, nc: NatsConnection, timeoutMs: number) {
    this.#lib = lib;
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#prefix = `${lib.transport.createInbox()}.`;
    this.#sub = nc.subscribe(`${this.#prefix}*`, {
      callback: (error, msg) => {
        if (error) this.failAll(error);
        else this.#acknowledged(msg.subject, msg.data, msg.headers);
      },
    });
  }

  /** Publish `batch`; one result per message. */
  publish(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const results: SendResult[] = new Array(batch.length);
    const firstId = this.#nextId;
    this.#nextId += batch.length;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => settle = resolve);
    const flight: InFlight = {
      firstId,
      batch,
      results,
      remaining: batch.length,
      done: settle,
    };
    this.#inFlight.push(flight);
    for (let i = 0; i < batch.length; i++) this.#send(flight, i);
    return done.then(() => results);
  }

  /**
   * Publish again every message not acknowledged yet (after a reconnect: what
   * went out before, or while the connection was down, got no answer). The
   * server may have stored some of them already: they are then stored twice
   * (at least once).
   */
  resend(): void {
    for (const flight of this.#inFlight) {
      for (let i = 0; i < flight.results.length; i++) {
        if (flight.results[i] === undefined) this.#send(flight, i);
      }
    }
  }

  /** Fail every message not acknowledged yet with `error`. */
  failAll(error: unknown): void {
    const failure = error instanceof StreamError ? error : new StreamError(
      "Backend",
      `nats: no acknowledgement: ${messageOf(error)}`,
      { cause: error },
    );
    for (const flight of this.#inFlight) {
      for (let i = 0; i < flight.results.length; i++) {
        if (flight.results[i] === undefined) this.#settle(flight, i, failure);
      }
    }
  }

  /** Stop taking acknowledgements (after the last batch settled). */
  close(): void {
    this.#sub.unsubscribe();
  }

  #send(flight: InFlight, i: number): void {
    const { streamKey, payload, options } = flight.batch[i];
    if (streamKey !== this.#subjectKey) {
      this.#subject = subjectOf(streamKey);
      this.#subjectKey = streamKey;
    }
    try {
      this.#nc.publish(this.#subject, payload, {
        reply: this.#prefix + (flight.firstId + i),
        headers: options === undefined ? undefined : this.#headers(options),
      });
    } catch (error) {
      this.#settle(
        flight,
        i,
        new StreamError("Backend", `nats: cannot publish to ${streamKey}: ${messageOf(error)}`, {
          cause: error,
        }),
      );
    }
  }

  #headers(options: { key?: string; headers?: Record<string, string> }): MsgHdrs | undefined {
    const { key, headers } = options;
    if (key === undefined && headers === undefined) return undefined;
    const h = this.#lib.transport.headers();
    if (key !== undefined) h.set(KEY_HEADER, key);
    for (const [name, value] of Object.entries(headers ?? {})) h.set(name, value);
    return h;
  }

  #acknowledged(subject: string, data: Uint8Array, headers: MsgHdrs | undefined): void {
    const id = Number(subject.slice(this.#prefix.length));
    const flights = this.#inFlight;
    for (let f = 0; f < flights.length; f++) {
      const flight = flights[f];
      const index = id - flight.firstId;
      if (index < 0 || index >= flight.results.length) continue;
      if (flight.results[index] !== undefined) return;
      if (headers?.code === 503 && this.#retry(flight, index)) return;
      const seq = headers?.code ? -1 : ackedSeq(data);
      const stream = flight.batch[index].streamKey;
      this.#settle(
        flight,
        index,
        seq > 0 ? new NatsHeader(stream, 0, seq, Date.now()) : refusal(data, headers, stream),
      );
      return;
    }
  }

  /** Publish `flight`'s message `index` again soon, unless it has been refused for too long. */
  #retry(flight: InFlight, index: number): boolean {
    const now = Date.now();
    flight.retryUntil ??= now + this.#timeoutMs;
    if (now >= flight.retryUntil) return false;
    setTimeout(() => {
      if (flight.results[index] === undefined) this.#send(flight, index);
    }, RETRY_MS);
    return true;
  }

  #settle(flight: InFlight, index: number, result: SendResult): void {
    flight.results[index] = result;
    if (--flight.remaining > 0) return;
    this.#inFlight = this.#inFlight.filter((f) => f !== flight);
    flight.done();
  }
}
