/**
 * Messages read from JetStream, and receipts. A message keeps the client's
 * message and reads its parts on demand: the stream sequence and the delivery
 * sequence are parsed from the reply (ack) subject as it arrives (the reader
 * needs them), the shard, timestamp, payload, key and headers when first read.
 *
 * @module
 */
import type { Msg } from "@nats-io/transport-node";
import type { Message, Payload, ShardId, StreamKey } from "../../types.ts";
import { BytesPayload } from "../../core/message.ts";
import { LazyHeader } from "../../core/header.ts";
import { plainView } from "../../runtime/bytes.ts";

/**
 * The NATS header that holds a message's key.
 *
 * @example
 * ```ts
 * import { KEY_HEADER } from "@seastreamer/seastreamer/nats";
 *
 * console.log(KEY_HEADER); // SeaStreamer-Key: another program reads a message's key here
 * ```
 */
export const KEY_HEADER = "SeaStreamer-Key";

/**
 * The header of a JetStream message (a message's header, a producer's
 * receipt): seqNo is the stream sequence, the timestamp the stored time.
 *
 * @example
 * ```ts
 * import { NatsHeader } from "@seastreamer/seastreamer/nats";
 *
 * const header = new NatsHeader("orders", 0, 42, 1700000000000);
 * console.log(header.seqNo, header.timestamp.toISOString()); // 42n 2023-11-14T22:13:20.000Z
 * ```
 */
export class NatsHeader extends LazyHeader {
  /** The stream sequence, as a number. */
  readonly seq: number;
  readonly #ms: number;

  /** The header of sequence `seq` of `streamKey`/`shardId`, stored at `ms`. */
  constructor(streamKey: StreamKey, shardId: ShardId, seq: number, ms: number) {
    super(streamKey, shardId);
    this.seq = seq;
    this.#ms = ms;
  }

  /** The stream sequence. */
  protected makeSeqNo(): bigint {
    return BigInt(this.seq);
  }

  /** When the server stored it (a receipt: when the server acknowledged it). */
  protected timestampMs(): number {
    return this.#ms;
  }
}

/** Where the numbers sit in an ack subject, found by {@link parseAckSubject}. */
export interface AckInfo {
  /** The stream sequence. */
  seq: number;
  /** The consumer's delivery sequence. */
  dseq: number;
  /** How many times it was delivered (1: the first time). */
  delivered: number;
  /** The stored time in ns, as decimal text (beyond a double's precision). */
  nanos: string;
  /** Messages the consumer had not delivered yet when it sent this one. */
  pending: number;
}

const DOTS = new Int32Array(16);

function numberAt(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return end > start ? value : -1;
}

/**
 * Read `reply`, a JetStream ack subject (`$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>`,
 * or the form with a domain and account hash after `$JS.ACK`), into `out`. False if it is not one.
 */
export function parseAckSubject(reply: string, out: AckInfo): boolean {
  let dots = 0;
  for (let i = 0; i < reply.length && dots < 16; i++) {
    if (reply.charCodeAt(i) === 46) DOTS[dots++] = i;
  }
  const tokens = dots + 1;
  // The token index of <delivered>: 4 in the old form (9 tokens), 6 in the new one (11 or 12).
  const at = tokens === 9 ? 4 : tokens === 11 || tokens === 12 ? 6 : -1;
  if (at < 0 || !reply.startsWith("$JS.ACK.")) return false;
  const end = (token: number) => token + 1 < tokens ? DOTS[token] : reply.length;
  const start = (token: number) => DOTS[token - 1] + 1;
  out.delivered = numberAt(reply, start(at), end(at));
  out.seq = numberAt(reply, start(at + 1), end(at + 1));
  out.dseq = numberAt(reply, start(at + 2), end(at + 2));
  out.nanos = reply.slice(start(at + 3), end(at + 3));
  out.pending = numberAt(reply, start(at + 4), end(at + 4));
  return out.seq > 0 && out.dseq > 0;
}

/** The shard of a subject `key.N` (the number after its last dot; 0 if it is none). */
export function shardOfSubject(subject: string): ShardId {
  const dot = subject.lastIndexOf(".");
  const shard = numberAt(subject, dot + 1, subject.length);
  return shard < 0 ? 0 : shard;
}

/**
 * A JetStream message as a seastreamer message, with the key and headers its producer gave.
 *
 * @example
 * ```ts ignore
 * import { NatsMessage } from "@seastreamer/seastreamer/nats";
 *
 * for await (const message of consumer) {
 *   if (message instanceof NatsMessage) console.log(message.key, message.headers);
 * }
 * ```
 */
export class NatsMessage implements Message {
  /** The stream. */
  readonly streamKey: StreamKey;
  /** The stream sequence. */
  readonly seq: number;
  readonly #msg: Msg;
  readonly #nanos: string;
  #header: NatsHeader | undefined;
  #payload: BytesPayload | undefined;

  /** A message of `streamKey` with stream sequence `seq`, stored at `nanos` (ns, decimal). */
  constructor(streamKey: StreamKey, msg: Msg, seq: number, nanos: string) {
    this.streamKey = streamKey;
    this.#msg = msg;
    this.seq = seq;
    this.#nanos = nanos;
  }

  /** The subject that acknowledges this delivery (JetStream's reply subject). */
  get ackSubject(): string {
    return this.#msg.reply!;
  }

  /** Its shard: the last token of its subject. */
  get shardId(): ShardId {
    return this.header.shardId;
  }

  /** Where it sits: seqNo is the stream sequence. */
  get header(): NatsHeader {
    if (this.#header === undefined) {
      const nanos = this.#nanos;
      const ms = nanos.length > 6 ? Number(nanos.slice(0, -6)) : 0;
      this.#header = new NatsHeader(
        this.streamKey,
        shardOfSubject(this.#msg.subject),
        this.seq,
        ms,
      );
    }
    return this.#header;
  }

  /** What it carries. */
  get payload(): Payload {
    if (this.#payload === undefined) {
      // A plain Uint8Array view: the client's Buffer prototype is not part of the contract.
      const data = this.#msg.data;
      this.#payload = new BytesPayload(plainView(data));
    }
    return this.#payload;
  }

  /** The key its producer gave (the `SeaStreamer-Key` header), if any. */
  get key(): string | undefined {
    return this.#msg.headers?.get(KEY_HEADER) || undefined;
  }

  /** The NATS headers it carries, but the key (the last value of each). */
  get headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    const all = this.#msg.headers;
    if (all === undefined) return headers;
    for (const name of all.keys()) {
      if (name !== KEY_HEADER) headers[name] = all.get(name);
    }
    return headers;
  }
}
