/**
 * The processor's vocabulary: handlers, what they return, middleware.
 *
 * @module
 */
import type {
  AutoStreamReset,
  ConnectOptions,
  ConsumerMode,
  ConsumerOptions,
  Message,
  PayloadInput,
  StreamKey,
} from "../types.ts";

/** One message a handler asks to produce. */
export interface Output {
  /** The payload. */
  payload: PayloadInput;
  /** The stream to send to (default: the output URL's first stream). */
  stream?: StreamKey;
  /** A message key (backends that cannot store keys reject it). */
  key?: string;
  /** Message headers (backends that cannot store headers reject them). */
  headers?: Record<string, string>;
  /** Send it on the input's backend instead of the output's (dead letters sit beside their stream). */
  deadLetter?: boolean;
}

/** What a handler returns: nothing, one payload or output, or several. */
export type HandlerResult = void | PayloadInput | Output | ReadonlyArray<PayloadInput | Output>;

/** What a handler knows besides the message. */
export interface HandlerContext {
  /** 1 for the first try; the retry middleware counts up. */
  attempt: number;
  /** Aborted when the processor gives up on the message (stop timeout, per-message timeout). */
  signal: AbortSignal;
}

/**
 * Handles one message: returns the outputs to produce. Throwing fails the
 * message (and, without retry/dead-letter middleware, stops the processor
 * without committing it, so it is delivered again after a restart).
 */
export type Handler = (
  message: Message,
  context: HandlerContext,
) => HandlerResult | Promise<HandlerResult>;

/** Wraps a handler with behaviour (retry, timeout, tracing…). */
export type Middleware = (next: Handler) => Handler;

/** How {@link Router.handle} reads, writes and runs a handler. */
export interface HandleOptions {
  /** Where outputs go: a stream URL such as `redis://host:6379/invoices`. */
  output?: string;
  /** The consumer group (needed to resume after a restart). */
  group?: string;
  /** Default: `resumable` when a group is given, else `real-time`. */
  mode?: ConsumerMode;
  /** Where a new group starts (default `earliest`: a processor should not skip history). */
  autoStreamReset?: AutoStreamReset;
  /**
   * Messages handled at once (default 1). Handlers of one shard may overlap,
   * but their outputs are produced, and inputs committed, in input order.
   */
  concurrency?: number;
  /** Middleware for this handler, outermost first (after the router's). */
  middleware?: readonly Middleware[];
  /** How often finished inputs are committed, in ms (default 100; and always at stop). */
  commitIntervalMs?: number;
  /** Extra consumer options (backend sub-objects such as `file: { live: false }`). */
  consumer?: ConsumerOptions;
  /** Options for connecting the input and output URLs. */
  connect?: ConnectOptions;
}

/** Options of a {@link Router}. */
export interface RouterOptions {
  /** Stop when this signal aborts. */
  signal?: AbortSignal;
  /** Stop gracefully on SIGINT/SIGTERM (a second signal exits at once). */
  handleSignals?: boolean;
  /** How long a stop waits for messages in flight, in ms (default 10,000). */
  stopTimeoutMs?: number;
  /** Middleware for every handler, outermost first. */
  middleware?: readonly Middleware[];
}
