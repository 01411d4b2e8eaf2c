/**
 * One JetStream pull consumer read by one seastreamer consumer: pull requests
 * ask for exactly what the consumer has room for (so a slow consumer holds
 * bounded memory), messages arrive through a subscription callback and go
 * to the consumer's inbox one array per socket read. Lost requests are
 * noticed by missed heartbeats and connection events, and the reader starts
 * over: an ephemeral (real-time) consumer is made again after the last stream
 * sequence received, as the client's ordered consumer does; a durable
 * consumer (a group's) is pulled again, and the server redelivers what was
 * lost after its ack wait.
 *
 * @module
 */
import type { ConsumerConfig } from "@nats-io/jetstream";
import type { Msg, Subscription } from "@nats-io/transport-node";
import { StreamError, type StreamKey } from "../../types.ts";
import type { Inbox } from "../../core/inbox.ts";
import { sleep, timeout } from "../../runtime/mod.ts";
import { API, apiErrorCode, type NatsClient, natsError } from "./client.ts";
import { type AckInfo, NatsMessage, parseAckSubject } from "./message.ts";

/** How long one pull request waits on the server, ms. */
const EXPIRES_MS = 20_000;
/** The heartbeat the server sends while a request waits, ms; two missed ones restart the reader. */
const HEARTBEAT_MS = 2_000;
const ACK = new Uint8Array([0x2b, 0x41, 0x43, 0x4b]); // +ACK
const NAK = new Uint8Array([0x2d, 0x4e, 0x41, 0x4b]); // -NAK

/** Where a consumer starts: JetStream's deliver policy and its argument. */
export type Start =
  | { deliver_policy: "all" }
  | { deliver_policy: "by_start_sequence"; opt_start_seq: number }
  | { deliver_policy: "by_start_time"; opt_start_time: string };

/** How a reader reads: an ephemeral consumer of its own, or a group's durable consumer. */
export type ReaderKind =
  | { kind: "ephemeral"; start: Start }
  | { kind: "durable"; name: string; config: Partial<ConsumerConfig> };

/** Reads one JetStream stream into a shared inbox. */
export class PullReader {
  /** The stream key it reads. */
  readonly streamKey: StreamKey;
  readonly #client: NatsClient;
  readonly #stream: string;
  readonly #inbox: Inbox;
  readonly #capacity: number;
  readonly #budget: number;
  readonly #timeoutMs: number;
  #kind: ReaderKind;
  /** The consumer's name on the server. */
  #name = "";
  #sub: Subscription | undefined;
  #generation = 0;
  #pending = 0;
  #lastActivity = Date.now();
  #paused = false;
  /** Set while the reader starts over; what it settles with. */
  #resetting: Promise<void> | undefined;
  #closed = false;
  #monitor: ReturnType<typeof setInterval> | undefined;
  /** Ephemeral: the last stream and delivery sequences received (gaps mean lost messages). */
  #lastSeq = 0;
  #lastDseq = 0;
  /** Durable: delivered, not yet acknowledged, by stream sequence. */
  readonly #unacked = new Map<number, NatsMessage>();
  /** Received in the current socket read, handed to the inbox at its end. */
  #batch: NatsMessage[] = [];
  readonly #ack: AckInfo = { seq: 0, dseq: 0, delivered: 0, nanos: "" };

  /**
   * A reader of JetStream stream `stream` (seastreamer's `streamKey`) into
   * `inbox` (which holds up to `capacity`), asking for at most `budget`
   * messages ahead.
   */
  constructor(
    client: NatsClient,
    streamKey: StreamKey,
    stream: string,
    kind: ReaderKind,
    inbox: Inbox,
    capacity: number,
    budget: number,
    timeoutMs: number,
  ) {
    this.#client = client;
    this.streamKey = streamKey;
    this.#stream = stream;
    this.#kind = kind;
    this.#inbox = inbox;
    this.#capacity = capacity;
    this.#budget = Math.max(1, budget);
    this.#timeoutMs = timeoutMs;
  }

  /** Make the consumer on the server and start reading. */
  async start(): Promise<void> {
    await this.#open();
    this.#monitor = setInterval(() => this.#check(), HEARTBEAT_MS);
    this.refill();
  }

  /** Ask for more if the inbox has room and less than half the budget is on its way. */
  refill(): void {
    if (this.#sub === undefined || this.#closed || this.#resetting !== undefined) return;
    if (this.#inbox.size >= this.#capacity || this.#pending * 2 > this.#budget) return;
    const batch = this.#budget - this.#pending;
    this.#pending += batch;
    const request = JSON.stringify({
      batch,
      expires: EXPIRES_MS * 1_000_000,
      idle_heartbeat: HEARTBEAT_MS * 1_000_000,
    });
    try {
      this.#client.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.#stream}.${this.#name}`, request, {
        reply: this.#sub.getSubject(),
      });
    } catch {
      // Closed or draining: the reset after a reconnect asks again.
      this.#pending -= batch;
    }
  }

  /** The connection dropped: heartbeats cannot come until it is back. */
  pause(): void {
    this.#paused = true;
  }

  /** The connection is back (requests made before are lost): start over. */
  resume(): void {
    this.#paused = false;
    this.#lastActivity = Date.now();
    this.#restart();
  }

  /** Read from `start` on: an ephemeral consumer is made anew there; a durable one is deleted and made again there. */
  async move(start: Start): Promise<void> {
    await this.#resetting;
    this.#stop();
    this.#batch = [];
    this.#unacked.clear();
    if (this.#kind.kind === "ephemeral") {
      this.#kind = { kind: "ephemeral", start };
      this.#lastSeq = 0;
    } else {
      const { name, config } = this.#kind;
      await this.#deleteConsumer(name);
      this.#kind = { kind: "durable", name, config: { ...withoutStart(config), ...start } };
    }
    await this.#open();
    this.refill();
  }

  /**
   * Acknowledge the messages delivered to this reader up to stream sequence
   * `seq` of shard `shardId` (a durable consumer's commit); resolves once the
   * server has them.
   */
  async commit(seq: number, shardId: number): Promise<void> {
    const done: NatsMessage[] = [];
    for (const message of this.#unacked.values()) {
      if (message.seq <= seq && message.shardId === shardId) done.push(message);
    }
    if (done.length === 0) return;
    const nc = this.#client.nc;
    for (let i = 0; i < done.length - 1; i++) nc.publish(done[i].msg.reply!, ACK);
    try {
      // The server handles a connection's messages in order: the last one's answer covers all.
      await nc.request(done[done.length - 1].msg.reply!, ACK, { timeout: this.#timeoutMs });
    } catch (error) {
      throw natsError(error, `committing ${this.streamKey} up to ${seq}`);
    }
    for (const message of done) {
      if (this.#unacked.get(message.seq) === message) this.#unacked.delete(message.seq);
    }
  }

  /** Stop reading; a durable consumer's uncommitted messages are handed back, an ephemeral one is deleted. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#monitor);
    this.#stop();
    if (this.#kind.kind === "durable") {
      const nc = this.#client.nc;
      for (const message of this.#unacked.values()) {
        try {
          nc.publish(message.msg.reply!, NAK);
        } catch {
          // The connection is gone: the server redelivers after the ack wait.
        }
      }
      this.#unacked.clear();
    } else if (this.#name !== "") {
      // Not awaited: ending is prompt; a consumer left behind expires on its own (inactive_threshold).
      this.#client.jsm.consumers.delete(this.#stream, this.#name).catch(() => {});
    }
  }

  async #deleteConsumer(name: string): Promise<void> {
    try {
      await timeout(
        this.#client.jsm.consumers.delete(this.#stream, name),
        this.#timeoutMs,
        "delete",
      );
    } catch (error) {
      if (apiErrorCode(error) !== API.consumerNotFound && !this.#closed) {
        throw natsError(error, `deleting consumer ${name} of ${this.streamKey}`);
      }
    }
  }

  /** Create (or find) the consumer, subscribe a fresh inbox, ask for messages. */
  async #open(): Promise<void> {
    const { jsm, lib, nc } = this.#client;
    const kind = this.#kind;
    if (kind.kind === "ephemeral") {
      const start: Start = this.#lastSeq > 0
        ? { deliver_policy: "by_start_sequence", opt_start_seq: this.#lastSeq + 1 }
        : kind.start;
      const info = await jsm.consumers.add(this.#stream, {
        ack_policy: "none",
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: 300_000_000_000,
        ...start,
      } as Partial<ConsumerConfig>);
      this.#name = info.name;
      this.#lastDseq = 0;
    } else {
      this.#name = kind.name;
      try {
        await jsm.consumers.info(this.#stream, kind.name);
      } catch (error) {
        if (apiErrorCode(error) !== API.consumerNotFound) throw error;
        await jsm.consumers.add(this.#stream, { ...kind.config, durable_name: kind.name });
      }
    }
    if (this.#closed) return;
    const generation = ++this.#generation;
    this.#pending = 0;
    this.#lastActivity = Date.now();
    this.#sub = nc.subscribe(lib.transport.createInbox(), {
      callback: (error, msg) => {
        if (generation !== this.#generation) return;
        if (error) this.#fail(natsError(error, `reading ${this.streamKey}`));
        else this.#receive(msg);
      },
    });
  }

  #receive(msg: Msg): void {
    this.#lastActivity = Date.now();
    const reply = msg.reply;
    if (!reply) {
      this.#status(msg);
      return;
    }
    const ack = this.#ack;
    if (!parseAckSubject(reply, ack)) return;
    if (this.#pending > 0) this.#pending--;
    const message = new NatsMessage(this.streamKey, msg, ack.seq, ack.nanos);
    if (this.#kind.kind === "ephemeral") {
      if (ack.dseq !== this.#lastDseq + 1) {
        // Something was lost between the server and here: read again after the last one received.
        this.#restart();
        return;
      }
      this.#lastDseq = ack.dseq;
      this.#lastSeq = ack.seq;
    } else {
      const held = this.#unacked.has(ack.seq);
      this.#unacked.set(ack.seq, message);
      // Redelivered while it waits here (its ack wait ran out): it is handed out once.
      if (held) return;
    }
    if (this.#batch.length === 0) queueMicrotask(this.#flush);
    this.#batch.push(message);
  }

  readonly #flush = () => {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#inbox.put(batch);
    this.refill();
  };

  /** A status message on the inbox: a heartbeat, an expired request, a refusal. */
  #status(msg: Msg): void {
    const headers = msg.headers;
    const code = headers?.code ?? 0;
    if (code === 100) return;
    const left = Number(headers?.get("Nats-Pending-Messages") || 0);
    if (left > 0) this.#pending = Math.max(0, this.#pending - left);
    if (code === 408 || code === 404) {
      this.refill();
      return;
    }
    const description = headers?.description ?? "";
    if (code === 409 && /deleted/i.test(description)) {
      this.#restart();
    } else if (code === 400 || (code === 409 && /push based/i.test(description))) {
      this.#fail(
        new StreamError(
          "Backend",
          `nats: reading ${this.streamKey} failed: ${code} ${description}`,
        ),
      );
    } else if (code === 503) {
      // No one answers for the stream's consumers (JetStream is starting): start over, with backoff.
      this.#restart();
    } else {
      this.refill();
    }
  }

  #check(): void {
    if (this.#closed || this.#paused || this.#resetting !== undefined) return;
    if (this.#sub === undefined || this.#pending === 0) return;
    if (Date.now() - this.#lastActivity > 2 * HEARTBEAT_MS + 500) this.#restart();
  }

  #stop(): void {
    this.#generation++;
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#pending = 0;
  }

  /** Start over (from the last message received), retrying until it works or the reader closes. */
  #restart(): void {
    if (this.#closed || this.#resetting !== undefined) return;
    this.#stop();
    // Messages of this socket read are kept: they came before the loss.
    this.#resetting = this.#reopen().finally(() => {
      this.#resetting = undefined;
      this.refill();
    });
  }

  async #reopen(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      if (attempt > 0) await sleep(Math.min(100 * 2 ** attempt, 2_000));
      try {
        if (this.#kind.kind === "ephemeral" && this.#name !== "") {
          this.#client.jsm.consumers.delete(this.#stream, this.#name).catch(() => {});
        }
        await this.#open();
        return;
      } catch (error) {
        if (attempt > 3 && apiErrorCode(error) === API.streamNotFound) {
          this.#fail(
            new StreamError("StreamKeyNotFound", `nats: stream ${this.streamKey} was deleted`, {
              cause: error,
            }),
          );
          return;
        }
      }
    }
  }

  #fail(error: StreamError): void {
    this.#closed = true;
    clearInterval(this.#monitor);
    this.#stop();
    this.#inbox.close(error);
  }
}

/** `config` without its start position. */
function withoutStart(config: Partial<ConsumerConfig>): Partial<ConsumerConfig> {
  const { deliver_policy: _, opt_start_seq: __, opt_start_time: ___, ...rest } = config;
  return rest;
}
