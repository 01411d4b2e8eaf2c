/**
 * The Redis consumer: one read loop on its own connection, so blocking
 * XREAD/XREADGROUP never holds up other commands, feeding the bounded prefetch
 * queue.
 *
 * - Real-time: XREAD after a concrete ID per shard (`$` is resolved to the
 *   shard's last ID at start, so a quiet shard is never skipped or starved).
 * - Resumable and load-balanced: XREADGROUP, first this member's own pending
 *   entries (what it received but never acknowledged), then `>`. A resumable
 *   consumer's name is stable (the group's name, as SeaStreamer's), so a restart
 *   gets its unacknowledged entries again. Acknowledgements (XACK) are batched;
 *   `commit(msg)` acknowledges every entry of its shard up to `msg`.
 * - Load-balanced members claim (XPENDING IDLE + XCLAIM) entries that other
 *   members left unacknowledged for `claimIdleMs`: a dead member's messages go
 *   to the living.
 * - Shards (`stream:N` keys) are found with SCAN at start and every `shardScanMs`.
 * - On a cluster, one read covers the keys of one hash slot; several slots are
 *   read together without blocking, polling while they are quiet.
 * - Prefetch: the queue holds at most `prefetch` messages, plus the read in hand
 *   (at most `min(prefetch, 1000)` entries); a new read starts once half the
 *   prefetch was taken, so reads stay large and the queue rarely runs dry.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type MessageHeader, type SeqPos, StreamError } from "../../types.ts";
import { QueueConsumer } from "../../core/queue_consumer.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { sleep } from "../../runtime/mod.ts";
import { reconnectDelay, type RedisClient } from "./client.ts";
import { backendError, isReplyError } from "./errors.ts";
import { type EntryId, idBeforeMs, idBeforeSeqNo, isAfter } from "./id.ts";
import { RedisHeader, RedisMessage } from "./message.ts";
import { findShards, type ShardKey } from "./shards.ts";
import { hashSlot } from "./slot.ts";

/** Options of a {@link RedisConsumer} beyond the shared settings. */
export interface RedisConsumerConfig {
  /** The shared command connection (XACK, XGROUP, SCAN…). */
  client: RedisClient;
  /** This consumer's own connection, for its reads. */
  reader: RedisClient;
  /** Whether the connections go to a cluster. */
  cluster: boolean;
  /** The payload field. */
  payloadField: Buffer;
  /** This member's name in the group. */
  consumerName: string;
  /** Claim other members' entries idle this long, ms. */
  claimIdleMs: number;
  /** How long one blocking read waits, ms. */
  blockMs: number;
  /** Create a group's missing stream. */
  mkstream: boolean;
  /** How often to look for new shards, ms. */
  shardScanMs: number;
  /** Forget the consumer once ended. */
  onEnd(consumer: RedisConsumer): void;
}

/** One key this consumer reads, and where it is. */
interface Shard extends ShardKey {
  /** Real-time: read after this ID. Group: this member's pending entries after this ID. */
  cursor: string | Buffer;
  /** Group: still reading this member's own pending entries. */
  pending: boolean;
  /** Group: entries received and not yet acknowledged, in ID order, from `heldHead`. */
  held: RedisMessage[];
  heldHead: number;
  /** Group: acknowledge held entries up to this one. */
  ackTo: EntryId | undefined;
  /** Its cluster hash slot. */
  slot: number;
}

type Entry = [Buffer, Buffer[] | null];
type StreamReply = [Buffer, Entry[]][] | null;

/** The most time between an auto-committed message being handed out and its XACK, ms. */
export const AUTO_COMMIT_INTERVAL_MS = 100;
/** Auto-commits are acknowledged at least every this many messages. */
const ACK_BATCH = 1000;
/** How long a cluster consumer reading several slots waits between quiet polls, ms. */
const CLUSTER_POLL_MS = 20;
/** The most entries read in one command. */
const MAX_READ = 1000;

/**
 * Server replies that pass: a slot moving or a node failing over (UNBLOCKED when
 * a blocked read's key moved away), a server loading its data or busy.
 */
const TRANSIENT = /^(UNBLOCKED|MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|BUSY|MASTERDOWN|READONLY)\b/;

/** Delete consumer ARGV[2] from group ARGV[1] of stream KEYS[1] if it has no pending entries, atomically. */
const LEAVE_IF_IDLE = `
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  if consumer[2] == ARGV[2] then
    if consumer[4] == 0 then
      return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    end
    return -1
  end
end
return -2`;

const headerKey = (stream: string, shardId: number) => `${stream}\u0000${shardId}`;

/** A consumer of Redis streams. */
export class RedisConsumer extends QueueConsumer {
  /** For error messages. */
  protected readonly backendName = "redis";
  readonly #config: RedisConsumerConfig;
  readonly #grouped: boolean;
  readonly #shards = new Map<string, Shard>();
  readonly #byHeader = new Map<string, Shard>();
  readonly #lowWater: number;
  #epoch = 0;
  #closed = false;
  #loop: Promise<void> | undefined;
  #roomWaiter: (() => void) | undefined;
  #idle = new AbortController();
  #blocked = false;
  #readerId: number | undefined;
  #lastScan = 0;
  #lastClaim = 0;
  #lastAuto: MessageHeader | undefined;
  #resync = false;
  /** Messages auto-committed since the last XACK. */
  #autoCommitted = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #ackChain: Promise<void> = Promise.resolve();

  /** A consumer of `settings.streams`; call `start()`. */
  constructor(settings: ConsumerSettings, config: RedisConsumerConfig) {
    super(settings);
    this.#config = config;
    this.#grouped = settings.mode !== "real-time";
    this.#lowWater = Math.max(1, Math.floor(settings.prefetch / 2));
  }

  /** This member's name in its group (undefined for real-time consumers). */
  get consumerName(): string | undefined {
    return this.#grouped ? this.#config.consumerName : undefined;
  }

  /** Find the shards, position on each (creating groups), and start reading. */
  async start(): Promise<void> {
    const reader = this.#config.reader;
    if (!this.#config.cluster) this.#readerId = await reader.call("CLIENT", "ID") as number;
    reader.on("ready", () => {
      // Reconnected: a read whose reply was lost left entries in this member's pending
      // list; read them again (after the last one held) before new ones.
      this.#resync = this.#grouped;
      if (!this.#config.cluster) {
        reader.call("CLIENT", "ID").then((id) => this.#readerId = id as number, () => {});
      }
    });
    await this.#discover(true);
    this.#lastScan = Date.now();
    this.#loop = this.#run();
  }

  /** The keys this consumer reads. */
  get keys(): string[] {
    return [...this.#shards.keys()];
  }

  /** The next message; taking one makes room for the reader. */
  override next(signal?: AbortSignal): ReturnType<QueueConsumer["next"]> {
    // A real-time consumer owes no commits: a message waiting is handed out at once.
    if (!this.#grouped && !this.ended) {
      const waiting = this.queue.poll();
      if (waiting !== undefined) {
        this.#wakeReader();
        return Promise.resolve(waiting);
      }
    }
    const waits = this.queue.length === 0;
    const taken = super.next(signal);
    // A wait may end in a rejection (end() closes the queue) before the caller
    // awaits it: that is not an unhandled rejection.
    if (waits) taken.catch(() => {});
    this.#wakeReader();
    return taken;
  }

  /** Resolves once the queue has room for a read (or on an interrupt). */
  #roomToRead(): Promise<void> {
    return new Promise<void>((resolve) => this.#roomWaiter = resolve);
  }

  #wakeReader(force = false): void {
    const waiter = this.#roomWaiter;
    if (waiter && (force || this.settings.prefetch - this.queue.length >= this.#lowWater)) {
      this.#roomWaiter = undefined;
      waiter();
    }
  }

  // ---- shards and positions ----

  async #discover(initial: boolean): Promise<void> {
    const client = this.#config.client;
    const found: ShardKey[] = [];
    for (const stream of this.streams) {
      const shards = await findShards(client, stream);
      const bare = this.#shards.has(stream) || !this.#grouped || this.#config.mkstream ||
        shards.length === 0 || await client.exists(stream) === 1;
      if (bare) found.push({ stream, shardId: 0, key: stream });
      found.push(...shards);
    }
    const added = found.filter((shard) => !this.#shards.has(shard.key));
    if (added.length === 0) return;
    const positions = await Promise.all(added.map((shard) => this.#position(shard, initial)));
    for (let i = 0; i < added.length; i++) {
      const shard: Shard = {
        ...added[i],
        cursor: positions[i],
        pending: this.#grouped,
        held: [],
        heldHead: 0,
        ackTo: undefined,
        slot: hashSlot(added[i].key),
      };
      this.#shards.set(shard.key, shard);
      this.#byHeader.set(headerKey(shard.stream, shard.shardId), shard);
    }
  }

  /** Where a new shard starts; creates the group on it. Shards found later start at their beginning. */
  async #position(shard: ShardKey, initial: boolean): Promise<string> {
    const earliest = !initial || this.settings.autoStreamReset === "earliest";
    if (!this.#grouped) return earliest ? "0-0" : await this.#lastId(shard.key);
    await this.#createGroup(shard.key, earliest ? "0" : "$", this.#config.mkstream);
    return "0-0";
  }

  async #createGroup(key: string, id: string, mkstream: boolean): Promise<void> {
    const args: (string | number)[] = ["CREATE", key, this.group!, id];
    if (mkstream) args.push("MKSTREAM");
    try {
      await this.#config.client.call("XGROUP", ...args);
    } catch (error) {
      if (isReplyError(error, "BUSYGROUP")) return;
      if (!mkstream && /requires the key to exist/i.test((error as Error).message)) {
        throw new StreamError(
          "StreamKeyNotFound",
          `redis: stream ${key} does not exist (mkstream is off)`,
          { cause: error },
        );
      }
      throw backendError(error, `cannot create group ${this.group} on ${key}`);
    }
  }

  async #lastId(key: string): Promise<string> {
    const last = await this.#config.client.call("XREVRANGE", key, "+", "-", "COUNT", 1) as [
      string,
      unknown,
    ][];
    return last.length > 0 ? last[0][0] : "0-0";
  }

  // ---- the read loop ----

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        const room = this.settings.prefetch - this.queue.length;
        // A group member reads again once half the prefetch is taken (what it reads becomes
        // its pending entries): reads stay large, the queue never runs dry. A real-time reader
        // reads on at once and holds the reply until there is room, so the server's work
        // overlaps the consumer's.
        if (room < this.#lowWater && this.#grouped) {
          await this.#roomToRead();
          continue;
        }
        if (this.#resync) {
          this.#resync = false;
          for (const shard of this.#shards.values()) {
            shard.pending = true;
            shard.cursor = shard.held.length > shard.heldHead
              ? shard.held[shard.held.length - 1].id
              : "0-0";
          }
        }
        const now = Date.now();
        if (now - this.#lastScan >= this.#config.shardScanMs) {
          this.#lastScan = now;
          await this.#discover(false);
        }
        if (this.mode === "load-balanced" && now - this.#lastClaim >= this.#claimEvery()) {
          this.#lastClaim = now;
          await this.#claim(room);
        }
        // A load-balanced member takes only what it has room for (the rest is for the other
        // members); otherwise reads stay whole (fewer round trips) and the one in hand
        // waits for room: at most `prefetch` queued plus one read.
        const count = this.mode === "load-balanced" ? room : this.settings.prefetch;
        await this.#readRound(Math.min(count, MAX_READ));
        failures = 0;
      } catch (error) {
        if (this.#closed || this.queue.closed) break;
        if (isReplyError(error, "NOGROUP")) {
          // The stream or group was removed (or the server lost its data): create it again.
          await Promise.all(
            [...this.#shards.values()].map((s) => this.#createGroup(s.key, "0", true)),
          ).catch(() => {});
        } else if (
          error instanceof Error && error.name === "ReplyError" && !TRANSIENT.test(error.message)
        ) {
          this.queue.close(backendError(error, "reading failed"));
          break;
        }
        // A read whose reply was lost with the connection may have been served: its entries
        // are this member's pending ones now. Read those again (after the last delivered) first.
        if (this.#grouped) { for (const shard of this.#shards.values()) shard.pending = true; }
        failures++;
        await sleep(reconnectDelay(failures), this.#idle.signal).catch(() => {});
      }
    }
  }

  #claimEvery(): number {
    return Math.max(50, Math.min(this.#config.claimIdleMs / 2, 5000));
  }

  async #readRound(count: number): Promise<void> {
    const shards = [...this.#shards.values()];
    let batches: Shard[][] = [shards];
    if (this.#config.cluster) {
      const bySlot = new Map<number, Shard[]>();
      for (const shard of shards) {
        const list = bySlot.get(shard.slot);
        if (list) list.push(shard);
        else bySlot.set(shard.slot, [shard]);
      }
      batches = [...bySlot.values()];
    }
    const pending = this.#grouped && shards.some((shard) => shard.pending);
    let block: number | undefined;
    if (batches.length === 1 && !pending) {
      block = this.#config.blockMs;
      if (this.mode === "load-balanced") block = Math.min(block, this.#claimEvery());
    }
    const epoch = this.#epoch;
    const replies = await Promise.all(batches.map((batch) => this.#read(batch, count, block)));
    if (this.#closed || epoch !== this.#epoch) return; // moved meanwhile: read again from there
    let delivered = 0;
    for (let i = 0; i < batches.length; i++) {
      delivered += await this.#deliver(batches[i], replies[i], false);
    }
    if (delivered === 0 && block === undefined && !pending) {
      await sleep(CLUSTER_POLL_MS, this.#idle.signal).catch(() => {});
    }
  }

  async #read(batch: Shard[], count: number, block: number | undefined): Promise<StreamReply> {
    const args: (string | number | Buffer)[] = [];
    if (this.#grouped) args.push("GROUP", this.group!, this.#config.consumerName);
    args.push("COUNT", count);
    if (block !== undefined) args.push("BLOCK", block);
    args.push("STREAMS");
    for (const shard of batch) args.push(shard.key);
    for (const shard of batch) args.push(this.#grouped && !shard.pending ? ">" : shard.cursor);
    this.#blocked = block !== undefined;
    const reader = this.#config.reader;
    const reading = reader.callBuffer(this.#grouped ? "XREADGROUP" : "XREAD", args);
    if (this.#config.cluster) {
      try {
        return await reading as StreamReply;
      } finally {
        this.#blocked = false;
      }
    }
    // The reader's commands are not resent after a reconnect, and ioredis never settles
    // them: a read in flight when the connection closes fails here instead.
    let onClose!: () => void;
    const lost = new Promise<never>((_, reject) => {
      onClose = () =>
        reject(new StreamError("Backend", "redis: the connection closed during a read"));
      reader.once("close", onClose);
    });
    try {
      return await Promise.race([reading, lost]) as StreamReply;
    } finally {
      reader.off("close", onClose);
      reading.catch(() => {});
      this.#blocked = false;
    }
  }

  /** Queue the entries of `reply`; how many. */
  async #deliver(batch: Shard[], reply: StreamReply, claimed: boolean): Promise<number> {
    let delivered = 0;
    const epoch = this.#epoch;
    const seen = reply === null ? undefined : new Set<Shard>();
    for (const [keyBytes, entries] of reply ?? []) {
      const shard = this.#shards.get(keyBytes.toString());
      if (shard === undefined) continue;
      seen!.add(shard);
      if (entries.length === 0) {
        shard.pending = false;
        continue;
      }
      let gone: Buffer[] | undefined;
      for (let k = 0; k < entries.length; k++) {
        const entry = entries[k];
        const id = entry[0];
        const fields = entry[1];
        if (fields === null) {
          (gone ??= []).push(id); // a pending entry that was deleted: nothing to deliver
          continue;
        }
        const message = new RedisMessage(
          shard.stream,
          shard.shardId,
          id,
          fields,
          this.#payloadAt(fields),
        );
        if (this.#grouped) this.#hold(shard, message, claimed);
        while (!this.queue.offer(message)) {
          // Full: wait for half the prefetch to be taken, then go on (one wait, not one per message).
          if (this.queue.closed || this.#closed) return delivered;
          await this.#roomToRead();
          if (epoch !== this.#epoch) return delivered; // moved meanwhile: the rest is stale
        }
        delivered++;
      }
      if (!claimed) shard.cursor = entries[entries.length - 1][0];
      if (gone && this.#grouped) {
        await this.#config.client.callBuffer("XACK", shard.key, this.group!, ...gone);
      }
    }
    // A group member's own pending entries are done when a read returns none for the key.
    if (!claimed && seen) {
      for (const shard of batch) {
        if (!seen.has(shard)) shard.pending = false;
      }
    }
    return delivered;
  }

  #payloadAt(fields: Buffer[]): number {
    const name = this.#config.payloadField;
    const length = name.length;
    outer: for (let i = 0; i + 1 < fields.length; i += 2) {
      const field = fields[i];
      if (field.length !== length) continue;
      for (let j = 0; j < length; j++) if (field[j] !== name[j]) continue outer;
      return i + 1;
    }
    return -1;
  }

  #hold(shard: Shard, message: RedisMessage, claimed: boolean): void {
    const held = shard.held;
    if (!claimed || held.length === shard.heldHead) {
      held.push(message);
      return;
    }
    // Claimed entries may be older than some held ones: keep ID order.
    let i = held.length;
    while (
      i > shard.heldHead && isAfter(held[i - 1].ms, held[i - 1].seq, message.ms, message.seq)
    ) {
      i--;
    }
    held.splice(i, 0, message);
  }

  /** Take over entries other members left unacknowledged for `claimIdleMs`. */
  async #claim(room: number): Promise<void> {
    const { client, consumerName, claimIdleMs } = this.#config;
    for (const shard of this.#shards.values()) {
      const pending = await client.call(
        "XPENDING",
        shard.key,
        this.group!,
        "IDLE",
        claimIdleMs,
        "-",
        "+",
        room,
      ) as [string, string, number, number][];
      const ids = pending.filter((entry) => entry[1] !== consumerName).map((entry) => entry[0]);
      if (ids.length === 0) continue;
      const claimed = await client.callBuffer(
        "XCLAIM",
        shard.key,
        this.group!,
        consumerName,
        claimIdleMs,
        ...ids,
      ) as Entry[];
      const epoch = this.#epoch;
      if (this.#closed || epoch !== this.#epoch) return;
      const key = Buffer.from(shard.key);
      room -= await this.#deliver([shard], [[key, claimed]], true);
      if (room <= 0) return;
    }
  }

  /** Stop a blocking read in flight (it returns nothing), so the loop reads from the new place. */
  #interrupt(): void {
    const id = this.#readerId;
    if (this.#blocked && id !== undefined) {
      this.#config.client.call("CLIENT", "UNBLOCK", id).catch(() => {});
    }
    const idle = this.#idle;
    this.#idle = new AbortController();
    idle.abort();
    this.#wakeReader(true);
  }

  // ---- rewind and seek ----

  /**
   * Move every shard to `position` (`{ at }` inclusive). Real-time consumers
   * move themselves; a resumable consumer moves its group (XGROUP SETID),
   * acknowledging what it holds. Load-balanced members cannot move the group.
   */
  override async rewind(position: SeqPos): Promise<void> {
    if (this.ended) throw this.closedError();
    if (typeof position === "object" && typeof position?.at !== "bigint") {
      throw new StreamError("Unsupported", "rewind({ at }) takes a bigint seqNo");
    }
    if (position !== "beginning" && position !== "end" && typeof position !== "object") {
      throw new StreamError("Unsupported", `unknown position ${JSON.stringify(position)}`);
    }
    await this.#moveTo(async (shard) => {
      if (position === "beginning") return "0-0";
      if (position === "end") return this.#grouped ? "$" : await this.#lastId(shard.key);
      return idBeforeSeqNo(position.at);
    });
  }

  /** Move every shard to its first entry with a timestamp >= `timestamp`. */
  override async seek(timestamp: Date): Promise<void> {
    if (this.ended) throw this.closedError();
    if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) {
      throw new StreamError("Unsupported", "seek() takes a valid Date");
    }
    await this.#moveTo(() => Promise.resolve(idBeforeMs(timestamp.getTime())));
  }

  async #moveTo(target: (shard: Shard) => Promise<string>): Promise<void> {
    if (this.mode === "load-balanced") throw this.unsupported("rewind and seek");
    const shards = [...this.#shards.values()];
    const ids = await Promise.all(shards.map(target));
    if (this.#grouped) {
      await this.#flushAcks(true);
      try {
        await Promise.all(
          shards.map((shard, i) =>
            this.#config.client.call("XGROUP", "SETID", shard.key, this.group!, ids[i])
          ),
        );
      } catch (error) {
        throw backendError(error, "cannot move the group");
      }
    }
    this.#epoch++;
    this.queue.clear();
    for (let i = 0; i < shards.length; i++) {
      if (!this.#grouped) shards[i].cursor = ids[i];
      shards[i].pending = false;
    }
    this.#interrupt();
  }

  // ---- commits ----

  /** Acknowledge every held entry of `header`'s shard up to it. */
  protected override commitHeader(header: MessageHeader): Promise<void> {
    const shard = this.#byHeader.get(headerKey(header.streamKey, header.shardId));
    if (shard === undefined) {
      return Promise.reject(
        new StreamError(
          "StreamKeyNotFound",
          `redis consumer does not read shard ${header.shardId} of ${header.streamKey}`,
        ),
      );
    }
    this.#takeLastAuto();
    this.#target(shard, header);
    return this.#flushAcks(false);
  }

  /**
   * Auto-commits are merged and acknowledged within {@link AUTO_COMMIT_INTERVAL_MS}, or
   * at once every 1,000 messages.
   */
  protected override autoCommit(header: MessageHeader): void {
    const last = this.#lastAuto;
    if (
      last !== undefined && (last.streamKey !== header.streamKey || last.shardId !== header.shardId)
    ) {
      this.#takeLastAuto();
    }
    this.#lastAuto = header;
    if (++this.#autoCommitted >= ACK_BATCH) {
      // A fast consumer acknowledges in batches as a raw client would: entries die young.
      this.#flushAcks(false).catch((error) => this.onCommitError(error));
      return;
    }
    this.#ackTimer ??= setTimeout(() => {
      this.#ackTimer = undefined;
      this.#flushAcks(false).catch((error) => this.onCommitError(error));
    }, AUTO_COMMIT_INTERVAL_MS);
  }

  #takeLastAuto(): void {
    const last = this.#lastAuto;
    this.#lastAuto = undefined;
    if (last === undefined) return;
    const shard = this.#byHeader.get(headerKey(last.streamKey, last.shardId));
    if (shard) this.#target(shard, last);
  }

  #target(shard: Shard, header: MessageHeader): void {
    let ms: number;
    let seq: number;
    if (header instanceof RedisHeader) {
      ({ ms, seq } = header);
    } else {
      ms = Number(header.seqNo >> 16n);
      seq = Number(header.seqNo & 0xffffn);
    }
    const to = shard.ackTo;
    if (to === undefined || isAfter(ms, seq, to.ms, to.seq)) shard.ackTo = { ms, seq };
  }

  /** XACK what the targets cover (or everything held, with `all`); one flush at a time. */
  #flushAcks(all: boolean): Promise<void> {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#autoCommitted = 0;
    const flush = this.#ackChain.catch(() => {}).then(async () => {
      this.#takeLastAuto();
      const acks: Promise<unknown>[] = [];
      for (const shard of this.#shards.values()) {
        const to = shard.ackTo;
        shard.ackTo = undefined;
        if (to === undefined && !all) continue;
        const held = shard.held;
        let end = shard.heldHead;
        while (
          end < held.length && (all || !isAfter(held[end].ms, held[end].seq, to!.ms, to!.seq))
        ) {
          end++;
        }
        if (end === shard.heldHead) continue;
        const ids = held.slice(shard.heldHead, end).map((message) => message.id);
        if (end === held.length) {
          shard.held = [];
          shard.heldHead = 0;
        } else {
          shard.heldHead = end;
          if (end > 1024 && end * 2 > held.length) {
            shard.held = held.slice(end);
            shard.heldHead = 0;
          }
        }
        acks.push(this.#config.client.callBuffer("XACK", shard.key, this.group!, ...ids));
      }
      try {
        await Promise.all(acks);
      } catch (error) {
        throw backendError(error, "XACK failed");
      }
    });
    this.#ackChain = flush;
    return flush;
  }

  // ---- end ----

  /**
   * Remove this member from its group on every shard where it holds nothing
   * (members' names are unique per process, so they would pile up); one still
   * holding entries stays, for the others to claim them.
   */
  async #leave(): Promise<void> {
    await Promise.all([...this.#shards.values()].map((shard) =>
      this.#config.client.eval(
        LEAVE_IF_IDLE,
        1,
        shard.key,
        this.group!,
        this.#config.consumerName,
      ).catch(() => {})
    ));
  }

  /** Acknowledge what autoCommit owes, stop the read loop, close the reading connection. */
  protected async close(): Promise<void> {
    if (this.#closed) return;
    let failure: unknown;
    if (this.#grouped) await this.#flushAcks(false).catch((error) => failure = error);
    this.#closed = true;
    this.#interrupt();
    // Interrupts a blocking read at once; the read loop then sees #closed.
    this.#config.reader.disconnect();
    await this.#loop;
    if (this.mode === "load-balanced" && failure === undefined) await this.#leave();
    this.#config.onEnd(this);
    if (failure !== undefined) throw failure;
  }
}
