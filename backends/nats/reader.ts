/**
 * One JetStream pull consumer read by one seastreamer consumer, as the
 * client's own `consume()` reads: pull requests ask for what the consumer
 * has room for (so a slow consumer holds bounded memory) and are renewed
 * once half of what was asked for has come, after every socket read (with
 * messages, redeliveries or status messages alike); messages go to the
 * consumer's inbox one array per socket read. Lost requests are noticed by
 * missed heartbeats and reconnects, and the reader starts over: an ephemeral
 * (real-time) consumer is made again after the last stream sequence
 * received, as the client's ordered consumer does; a durable consumer (a
 * group's) is pulled again, and the server redelivers what was lost after
 * its ack wait.
 *
 * @module
 */
import type { ConsumerConfig, ConsumerInfo } from "@nats-io/jetstream";
import type { Msg, Subscription } from "@nats-io/transport-node";
import { StreamError, type StreamKey } from "../../types.ts";
import type { Inbox } from "../../core/inbox.ts";
import { sleep } from "../../runtime/mod.ts";
import { API, apiErrorCode, type NatsClient, natsError } from "./client.ts";
import { groupConsumer, type Start, withStart } from "./groups.ts";
import { EndWatch } from "./end.ts";
import { Held } from "./held.ts";
import type { Link, LinkListener } from "./link.ts";
import { type AckInfo, NatsMessage, parseAckSubject } from "./message.ts";

/** How long one pull request waits on the server, ms. */
const EXPIRES_MS = 20_000;
/** The same when the reader ends at a sequence (`live: false`): its expiry prompts a look at the end. */
const EXPIRES_TO_END_MS = 3_000;
/** The heartbeat the server sends while a request waits, ms; two missed ones restart the reader. */
const HEARTBEAT_MS = 1_000;
const ACK = new Uint8Array([0x2b, 0x41, 0x43, 0x4b]); // +ACK
const NAK = new Uint8Array([0x2d, 0x4e, 0x41, 0x4b]); // -NAK

/** How a reader reads: an ephemeral consumer of its own, or a group's durable consumer. */
export type ReaderKind =
  | { kind: "ephemeral"; start: Start }
  | {
    kind: "durable";
    name: string;
    config: Partial<ConsumerConfig>;
    /**
     * A resumable group (one member at a time): when the server holds
     * messages delivered but neither acknowledged nor held here (lost with a
     * connection, or left by a crashed member), the consumer is made again
     * after its acknowledgement floor, so they come now and in order rather
     * than after the ack wait.
     */
    fromAckFloor: boolean;
  };

/** What a reader reads, and where it puts it. */
export interface ReaderOptions {
  /** The connection. */
  client: NatsClient;
  /** The connection's state. */
  link: Link;
  /** The seastreamer stream key read. */
  streamKey: StreamKey;
  /** Its JetStream stream. */
  stream: string;
  /** Its consumer on the server. */
  kind: ReaderKind;
  /** Where messages go (shared by the consumer's readers). */
  inbox: Inbox;
  /** How many messages the inbox holds before the reader stops asking. */
  capacity: number;
  /** The most messages asked for ahead. */
  budget: number;
  /** The time limit of requests, ms. */
  timeoutMs: number;
  /** `live: false`: the last stream sequence to deliver (the stream's last when the consumer started). */
  endSeq?: number;
  /** Told once everything up to `endSeq` has been delivered. */
  onEnd?: () => void;
}

/** Reads one JetStream stream into a shared inbox. */
export class PullReader implements LinkListener {
  /** The stream key it reads. */
  readonly streamKey: StreamKey;
  readonly #o: ReaderOptions;
  readonly #budget: number;
  #kind: ReaderKind;
  /** The consumer's name on the server. */
  #name = "";
  #sub: Subscription | undefined;
  #generation = 0;
  /** Messages asked for and not yet received (nor reported left over by an expired request). */
  #pending = 0;
  #lastActivity = Date.now();
  #lastMessage = Date.now();
  #paused = false;
  /** Set while the reader starts over; what it settles with. */
  #resetting: Promise<void> | undefined;
  /** Restarts since the last message, for backoff. */
  #restarts = 0;
  #closed = false;
  #monitor: ReturnType<typeof setInterval> | undefined;
  /** The last stream sequence received (durable: the highest). */
  #lastSeq = 0;
  /** Ephemeral: the last delivery sequence received (a gap means lost messages). */
  #lastDseq = 0;
  /** Durable: delivered, not yet acknowledged. */
  readonly #held = new Held();
  /** Durable, `live: false`: delivered after the end, handed back at the end. */
  #beyond: NatsMessage[] = [];
  /** Received in the current socket read, handed to the inbox at its end. */
  #batch: NatsMessage[] = [];
  #flushQueued = false;
  readonly #ack: AckInfo = { seq: 0, dseq: 0, delivered: 0, nanos: "", pending: 0 };
  /** Messages the server holds for this consumer beyond what it delivered. */
  #lag: number | undefined;
  readonly #endWatch: EndWatch | undefined;
  #ended = false;

  /** A reader as `options` say; `start()` starts it. */
  constructor(options: ReaderOptions) {
    this.#o = options;
    this.streamKey = options.streamKey;
    this.#kind = options.kind;
    this.#budget = Math.max(1, options.budget);
    const endSeq = options.endSeq;
    if (endSeq === undefined) return;
    const look = () => {
      const { client, link, stream, timeoutMs } = this.#o;
      const generation = this.#generation;
      return link.guard(() => client.jsm.consumers.info(stream, this.#name), timeoutMs, "info")
        .then((info) => generation === this.#generation && !this.#closed ? info : undefined);
    };
    const allHere = (info: ConsumerInfo) =>
      this.#kind.kind === "ephemeral"
        ? info.delivered.consumer_seq <= this.#lastDseq
        : info.ack_floor.stream_seq >= endSeq ||
          info.num_ack_pending <= this.#held.size + this.#beyond.length;
    this.#endWatch = new EndWatch(endSeq, look, allHere, () => this.#end());
  }

  /** Messages on the server this reader has not received yet, as of the last one it did. */
  get lag(): number | undefined {
    return this.#lag;
  }

  /** Whether it has delivered everything up to its end sequence (`live: false`). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Make the consumer on the server and start reading. */
  async start(): Promise<void> {
    this.#o.link.listen(this);
    await this.#open();
    this.#monitor = setInterval(() => this.#check(), HEARTBEAT_MS);
    this.refill();
    this.#checkEnd();
  }

  /** Ask for more if the inbox has room and less than half the budget is on its way. */
  refill(): void {
    if (this.#sub === undefined || this.#closed || this.#paused || this.#ended) return;
    if (this.#resetting !== undefined) return;
    if (this.#o.inbox.size >= this.#o.capacity || this.#pending * 2 > this.#budget) return;
    const batch = this.#budget - this.#pending;
    this.#pending += batch;
    const expires = this.#o.endSeq === undefined ? EXPIRES_MS : EXPIRES_TO_END_MS;
    const request = JSON.stringify({
      batch,
      expires: expires * 1_000_000,
      idle_heartbeat: HEARTBEAT_MS * 1_000_000,
    });
    try {
      this.#o.client.nc.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${this.#o.stream}.${this.#name}`,
        request,
        { reply: this.#sub.getSubject() },
      );
    } catch {
      // Closed or draining: a restart asks again.
      this.#pending -= batch;
    }
  }

  /** The connection dropped: requests are lost, heartbeats cannot come. */
  down(): void {
    this.#paused = true;
  }

  /** The connection is back: start over (unless it is still opening). */
  up(): void {
    this.#paused = false;
    if (this.#sub === undefined) return;
    this.#lastActivity = Date.now();
    this.#restart();
  }

  /** Read from `start` on: an ephemeral consumer is made anew there; a durable one is deleted and made again there. */
  async move(start: Start): Promise<void> {
    await this.#resetting;
    this.#stop();
    this.#batch = [];
    // What came from the old place and waits in the inbox (a socket read handed over while the
    // move began) is not read.
    this.#o.inbox.drop((message) => message.header.streamKey === this.streamKey);
    this.#held.clear();
    this.#beyond = [];
    this.#ended = false;
    this.#lastSeq = 0;
    if (this.#kind.kind === "ephemeral") {
      this.#kind = { kind: "ephemeral", start };
    } else {
      const { name, config, fromAckFloor } = this.#kind;
      await this.#deleteConsumer(name);
      this.#kind = {
        kind: "durable",
        name,
        config: withStart(config, start),
        fromAckFloor,
      };
    }
    await this.#open();
    this.refill();
    this.#checkEnd();
  }

  /**
   * Acknowledge what was delivered to this reader of shard `shardId`, up to
   * and including stream sequence `seq`, in delivery order (a durable
   * consumer's commit; a redelivery that came after it stays owed); resolves
   * once the server has them.
   */
  async commit(seq: number, shardId: number): Promise<void> {
    const done = this.#held.upTo(seq, shardId);
    if (done.length === 0) return;
    const last = done[done.length - 1];
    const { link, client, timeoutMs } = this.#o;
    await link.guard(
      () => {
        for (let i = 0; i < done.length - 1; i++) client.nc.publish(done[i].ackSubject, ACK);
        // The server handles a connection's acknowledgements in order: the last one's answer covers all.
        return client.nc.request(last.ackSubject, ACK, { timeout: timeoutMs });
      },
      timeoutMs,
      `committing ${this.streamKey} up to ${seq}`,
    ).catch((error) => {
      throw natsError(error, `committing ${this.streamKey} up to ${seq}`);
    });
    this.#held.release(done);
    // live: false: a group's end may wait for this commit.
    this.#checkEnd();
  }

  /** Stop reading; a durable consumer's uncommitted messages are handed back, an ephemeral one is deleted. */
  close(): void {
    this.#closed = true;
    this.#o.link.unlisten(this);
    clearInterval(this.#monitor);
    this.#stop();
    if (this.#kind.kind === "durable") {
      this.#handBack([...this.#held.takeAll(), ...this.#beyond]);
      this.#beyond = [];
    } else if (this.#name !== "") {
      // Not awaited: ending is prompt; a consumer left behind expires on its own (inactive_threshold).
      this.#o.client.jsm.consumers.delete(this.#o.stream, this.#name).catch(() => {});
    }
  }

  /** Tell the server `messages` are not done here: they go to the group again now. */
  #handBack(messages: readonly NatsMessage[]): void {
    for (const message of messages) {
      try {
        this.#o.client.nc.publish(message.ackSubject, NAK);
      } catch {
        // The connection is gone: the server redelivers after the ack wait.
      }
    }
  }

  async #deleteConsumer(name: string): Promise<void> {
    const { client, link, stream, timeoutMs } = this.#o;
    try {
      await link.guard(() => client.jsm.consumers.delete(stream, name), timeoutMs, "delete");
    } catch (error) {
      if (apiErrorCode(error) !== API.consumerNotFound && !this.#closed) {
        throw natsError(error, `deleting consumer ${name} of ${this.streamKey}`);
      }
    }
  }

  /** Create (or find) the consumer, then subscribe a fresh inbox. */
  async #open(): Promise<void> {
    const { client, link, timeoutMs } = this.#o;
    const info = await link.guard(() => this.#ensure(), timeoutMs, `reading ${this.streamKey}`);
    if (this.#closed) {
      if (this.#kind.kind === "ephemeral") this.#deleteEphemeral();
      return;
    }
    this.#lag = info.num_pending;
    this.#sub?.unsubscribe();
    const generation = ++this.#generation;
    this.#pending = 0;
    this.#lastActivity = Date.now();
    this.#sub = client.nc.subscribe(client.lib.transport.createInbox(), {
      callback: (error, msg) => {
        if (generation !== this.#generation) return;
        if (error) this.#fail(natsError(error, `reading ${this.streamKey}`));
        else this.#receive(msg);
      },
    });
  }

  /** The consumer on the server: an ephemeral one made after the last received, or the group's. */
  async #ensure(): Promise<ConsumerInfo> {
    const { jsm } = this.#o.client;
    const stream = this.#o.stream;
    const kind = this.#kind;
    if (kind.kind === "ephemeral") {
      const start: Start = this.#lastSeq > 0
        ? { deliver_policy: "by_start_sequence", opt_start_seq: this.#lastSeq + 1 }
        : kind.start;
      const info = await jsm.consumers.add(stream, {
        ack_policy: "none",
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: 300_000_000_000,
        ...start,
      } as Partial<ConsumerConfig>);
      this.#name = info.name;
      this.#lastDseq = 0;
      return info;
    }
    this.#name = kind.name;
    const { info, remade } = await groupConsumer(
      jsm,
      stream,
      kind.name,
      kind.config,
      kind.fromAckFloor ? { lastSeq: this.#lastSeq, lowestHeld: this.#held.lowest() } : undefined,
    );
    if (remade) this.#held.remade(this.#lastSeq);
    return info;
  }

  #deleteEphemeral(): void {
    if (this.#name === "") return;
    this.#o.client.jsm.consumers.delete(this.#o.stream, this.#name).catch(() => {});
  }

  #receive(msg: Msg): void {
    this.#lastActivity = Date.now();
    // Once per socket read: hand over what came and ask for more, whatever came.
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    const reply = msg.reply;
    if (!reply) {
      this.#status(msg);
      return;
    }
    const ack = this.#ack;
    if (!parseAckSubject(reply, ack)) return;
    if (this.#pending > 0) this.#pending--;
    this.#lastMessage = this.#lastActivity;
    this.#restarts = 0;
    this.#lag = ack.pending;
    const message = new NatsMessage(this.streamKey, msg, ack.seq, ack.nanos);
    const endSeq = this.#o.endSeq;
    if (this.#kind.kind === "ephemeral") {
      if (ack.dseq !== this.#lastDseq + 1) {
        // Something was lost between the server and here: read again after the last one received.
        this.#restart();
        return;
      }
      this.#lastDseq = ack.dseq;
      this.#lastSeq = ack.seq;
      if (endSeq !== undefined && ack.seq >= endSeq) this.#checkEnd();
      if (endSeq !== undefined && ack.seq > endSeq) return;
    } else {
      if (ack.seq > this.#lastSeq) this.#lastSeq = ack.seq;
      if (endSeq !== undefined && ack.seq >= endSeq) this.#checkEnd();
      if (endSeq !== undefined && ack.seq > endSeq) {
        this.#beyond.push(message);
        return;
      }
      const delivery = this.#held.receive(message);
      if (delivery === "done") this.#o.client.nc.publish(reply, ACK);
      if (delivery !== "new") return;
    }
    this.#batch.push(message);
  }

  readonly #flush = () => {
    this.#flushQueued = false;
    const batch = this.#batch;
    if (batch.length > 0) {
      this.#batch = [];
      this.#o.inbox.put(batch);
    }
    this.refill();
    this.#endWatch?.afterRead();
  };

  /** A status message on the inbox: a heartbeat, an expired request, a refusal. */
  #status(msg: Msg): void {
    const headers = msg.headers;
    const code = headers?.code ?? 0;
    if (code === 100) return;
    const left = Number(headers?.get("Nats-Pending-Messages") || 0);
    if (left > 0) this.#pending = Math.max(0, this.#pending - left);
    const description = headers?.description ?? "";
    if (code === 408 || code === 404) {
      this.#checkEnd();
    } else if (code === 409 && /deleted/i.test(description)) {
      if (this.#kind.kind === "durable") {
        // The group was moved (resetGroup) or removed: take its consumer as it is found, a
        // moment later (the mover makes it again at once); what is held here is its past.
        this.#lastSeq = 0;
        this.#held.clear();
        this.#restarts = Math.max(this.#restarts, 2);
      }
      this.#restart();
    } else if (code === 409 && /leadership/i.test(description)) {
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
    }
    // Any other 409 (a request limit): the missed heartbeats that follow start over.
  }

  /** Every heartbeat interval: ask if nothing is asked for; start over if requests went quiet. */
  #check(): void {
    if (this.#closed || this.#paused || this.#resetting !== undefined || this.#ended) return;
    if (this.#sub === undefined) return;
    const now = Date.now();
    if (this.#pending === 0) this.refill();
    else if (now - this.#lastActivity > 2 * HEARTBEAT_MS + 500) this.#restart();
    if (now - this.#lastMessage > HEARTBEAT_MS) this.#checkEnd();
  }

  /** `live: false`: look whether everything up to the end sequence was delivered. */
  #checkEnd(): void {
    if (this.#ended || this.#closed || this.#sub === undefined) return;
    if (this.#resetting !== undefined) return;
    this.#endWatch?.check();
  }

  #end(): void {
    this.#ended = true;
    this.#flush();
    this.#stop();
    this.#handBack(this.#beyond);
    this.#beyond = [];
    this.#o.onEnd?.();
  }

  #stop(): void {
    this.#generation++;
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#pending = 0;
  }

  /** Start over (from the last message received), retrying until it works or the reader closes. */
  #restart(): void {
    if (this.#closed || this.#ended || this.#resetting !== undefined) return;
    this.#stop();
    // Messages of this socket read are kept: they came before the loss.
    this.#resetting = this.#reopen().finally(() => {
      this.#resetting = undefined;
      this.refill();
      this.#checkEnd();
    });
  }

  async #reopen(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      // Restarts that bring nothing (a server still starting) back off.
      const tries = this.#restarts++ + attempt;
      if (tries > 0) await sleep(Math.min(100 * 2 ** tries, 2_000));
      if (this.#closed) return;
      try {
        if (this.#kind.kind === "ephemeral") this.#deleteEphemeral();
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
    this.#o.link.unlisten(this);
    clearInterval(this.#monitor);
    this.#stop();
    this.#o.inbox.close(error);
  }
}
