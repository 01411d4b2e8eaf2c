/**
 * Loading kafkajs (an optional peer, loaded on first use) and the two fixes
 * applied to it as it loads: idle connections stop re-arming a 1 ms timer, and
 * our producers' batches are grouped by partition in one pass.
 *
 * @module
 */
import { createRequire } from "node:module";
import { libraryLoadError } from "./errors.ts";

/** The kafkajs module. */
export type Kafkajs = typeof import("kafkajs");

/**
 * The environment variables a kafkajs connection reads (Deno asks for permission
 * for each): kafkajs's own, and `SEASTREAMER_KAFKA_DRIVER` when no driver is named.
 */
export const KAFKAJS_ENV_VARS = [
  "NODE_ENV",
  "KAFKAJS_LOG_LEVEL",
  "KAFKAJS_NO_PARTITIONER_WARNING",
  "KAFKAJS_DEBUG_PROTOCOL_BUFFERS",
  "KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS",
  "SEASTREAMER_KAFKA_DRIVER",
];

let loading: Promise<Kafkajs> | undefined;

/** The client ids of the kafkajs clients this driver made (see {@link quietIdleQueues}). */
export const ourClientIds = new Set<string>();

/** The part of kafkajs's (internal) per-connection request queue the fix below reads. */
interface RequestQueue {
  clientId: string;
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

/**
 * kafkajs 2.2.4 re-arms a 1 ms timer on every connection forever once it has
 * sent a request, even with nothing queued (upstream issues 1556, 1704, 1751;
 * unfixed): each open connection wakes the event loop about a thousand times
 * a second. The connections of our clients skip that check when no request
 * waits and the broker throttles nothing (a new request re-arms it); other
 * kafkajs clients in the process are left as they are.
 */
function quietIdleQueues(prototype: RequestQueue): void {
  const schedule = prototype.scheduleCheckPendingRequests;
  if (typeof schedule !== "function") return; // another kafkajs: nothing to fix
  prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (
      ourClientIds.has(this.clientId) && this.pending.length === 0 &&
      !(this.throttledUntil > Date.now())
    ) {
      return;
    }
    schedule.call(this);
  };
}

/** The partitioners of our producers (see {@link groupLinearlyForUs}). */
export const ourPartitioners = new WeakSet<object>();
let groupingReplaced = false;

/** kafkajs's (internal) grouping of a batch's messages by partition. */
type GroupMessages = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: unknown) => number;
}) => Record<number, unknown[]>;

/**
 * kafkajs 2.2.4 groups a batch's messages by partition by copying the
 * partition's array once per message: quadratic, about 15% of the time of a
 * 1,000-message send. Batches of our producers (told apart by their
 * partitioner) are grouped in one pass, in the same order; other kafkajs users
 * in the process keep kafkajs's own. kafkajs's sender keeps the function it
 * finds when it loads, so this runs before kafkajs is loaded; where the module
 * cannot be reached this way (kafkajs loaded already, no node_modules), kafkajs
 * is left as it is.
 */
function groupLinearlyForUs(): void {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
    const original = require(path) as GroupMessages;
    const entry = require.cache[path];
    if (typeof original !== "function" || entry === undefined) return;
    const grouped: GroupMessages = (args) => {
      if (!ourPartitioners.has(args.partitioner)) return original(args);
      const result: Record<number, unknown[]> = {};
      if (args.partitionMetadata.length === 0) return result;
      for (const message of args.messages) {
        const partition = args.partitioner({
          topic: args.topic,
          partitionMetadata: args.partitionMetadata,
          message,
        });
        (result[partition] ??= []).push(message);
      }
      return result;
    };
    entry.exports = grouped;
  } catch {
    // kafkajs as it is.
  }
}

/**
 * Load kafkajs once (an optional peer: only Kafka users install it). Missing,
 * it is `StreamError("Unsupported")` saying how to install it; on Deno without
 * --allow-env, `StreamError("Runtime")` saying which permission to give.
 */
export function loadKafkajs(): Promise<Kafkajs> {
  if (!groupingReplaced) {
    groupingReplaced = true;
    groupLinearlyForUs();
  }
  loading ??= Promise.all([
    import("kafkajs"),
    import("kafkajs/src/network/requestQueue/index.js").catch(() => undefined),
  ]).then(
    ([module, requestQueue]) => {
      const RequestQueue = (requestQueue?.default ?? requestQueue) as
        | { prototype?: RequestQueue }
        | undefined;
      if (RequestQueue?.prototype) quietIdleQueues(RequestQueue.prototype);
      return module as Kafkajs;
    },
    (error) => {
      loading = undefined;
      throw libraryLoadError(error, "kafkajs", {
        variables: "environment variables",
        permission: `--allow-env (or --allow-env=${KAFKAJS_ENV_VARS.join(",")})`,
      });
    },
  );
  return loading;
}
