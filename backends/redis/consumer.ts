/**
 * The Redis consumer driver: one read at a time on its own connection
 * (reader.ts), so blocking XREAD/XREADGROUP never holds up other commands.
 *
 * - Real-time: XREAD after a concrete ID per shard (`$` is resolved to the
 *   shard's last ID at start, so a quiet shard is never skipped or starved).
 * - Resumable and load-balanced: XREADGROUP, first this member's own pending
 *   entries (what it received but never acknowledged), then `>`. A resumable
 *   consumer's name is stable (the group's name, as SeaStreamer's), so a
 *   restart gets its unacknowledged entries again. `commit` XACKs the entries
 *   held up to each position (acks.ts).
 * - Real-time and resumable consumers start the next read as soon as a fetch
 *   has handed out the last one, so the server's work overlaps the consumer's:
 *   at most one read is held beyond the consumer's prefetch. A load-balanced
 *   member reads only what the consumer has room for: what it reads is taken
 *   from the other members.
 * - Load-balanced members claim what others left idle (claims.ts).
 * - Shards (`stream:N` keys) are found with SCAN at start and every
 *   `shardScanMs` (shards.ts).
 * - On a cluster, one read covers the keys of one hash slot; several slots are
 *   read together without blocking, polling while they are quiet.
 * - Transient errors (a reconnect, a slot moving) are retried with backoff;
 *   after one, a group member reads its own pending entries first again.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { type MessageHeader, type SeqPos, StreamError } from "../../types.ts";
import type { CommitResults, ConsumerDriver, Fetched } from "../../core/driver.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { sleep } from "../../runtime/mod.ts";
import { reconnectDelay, type RedisClient } from "./client.ts";
import { backendError, isReplyError } from "./errors.ts";
import { type EntryId, idBeforeMs, idBeforeSeqNo, isAfter, parseId, parseIdBytes } from "./id.ts";
import { RedisMessage } from "./message.ts";
import { ackAll, type Acker, ackPositions, type HeldEntries } from "./acks.ts";
import { type Claimer, claimEvery, claimIdle, leaveIfIdle } from "./claims.ts";
import { type Entry, StreamReader, type StreamReply } from "./reader.ts";
import { createGroup, discoverShards, lastId, type Positioning, type Shard } from "./shards.ts";

/** Options of a {@link RedisConsumer} beyond the shared settings. */
export interface RedisConsumerConfig {
  /** The shared command connection (XACK, XGROUP, SCAN…). */
  client: RedisClient;
  /** This consumer's own connection, for its reads (its commands not resent after a reconnect). */
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
}

/** How long a cluster consumer reading several slots waits between quiet polls, ms. */
const CLUSTER_POLL_MS = 20;
/** The most entries read in one command. */
const MAX_READ = 1000;

/**
 * Server replies that pass: a slot moving or a node failing over (UNBLOCKED when
 * a blocked read's key moved away), a server loading its data or busy.
 */
const TRANSIENT = /^(UNBLOCKED|MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|BUSY|MASTERDOWN|READONLY)\b/;

const shardOf = (stream: string, shardId: number) => `${stream}\u0000${shardId}`;

/** A consumer of Redis streams. */
export class RedisConsumer implements ConsumerDriver, Acker, Claimer {
  /** The shared command connection. */
  readonly client: RedisClient;
  /** The group ("" for a real-time consumer). */
  readonly group: string;
  /** This member's name in the group. */
  readonly consumerName: string;
  /** Claim other members' entries idle this long, ms. */
  readonly claimIdleMs: number;
  /** How shards are found and positioned. */
  readonly #positioning: Positioning;
  readonly #config: RedisConsumerConfig;
  readonly #reader: StreamReader;
  readonly #settings: ConsumerSettings;
  readonly #grouped: boolean;
  readonly #loadBalanced: boolean;
  readonly #shards = new Map<string, Shard>();
  readonly #byHeader = new Map<string, Shard>();
  /** Moves (rewind, seek) so far. */
  #epoch = 0;
  #closed = false;
  /** The read in flight, and how to stop it. */
  #reading: Promise<RedisMessage[]> | undefined;
  #stopReading = new AbortController();
  /** What the last read returned beyond what its fetch took, from `#leftoverAt`. */
  #leftover: RedisMessage[] | undefined;
  #leftoverAt = 0;
  #lastScan = 0;
  #lastClaim = 0;
  #resync = false;
  /**
   * `live: false`: each shard's last entry when the consumer started; a shard is
   * dropped from it once read up to there (nothing later is delivered).
   */
  #ends: Map<string, EntryId> | undefined;
  /** `live: false`: the ends as taken at the start (a move reads up to them again). */
  #endsAtStart: ReadonlyMap<string, EntryId> | undefined;

  /** A consumer of `settings.streams`; call `start()`. */
  constructor(settings: ConsumerSettings, config: RedisConsumerConfig) {
    this.#settings = settings;
    this.#config = config;
    this.#grouped = settings.mode !== "real-time";
    this.#loadBalanced = settings.mode === "load-balanced";
    // Reconnected: a read whose reply was lost left entries pending; read them again first.
    this.#reader = new StreamReader(
      config.reader,
      config.client,
      config.cluster,
      () => this.#resync = this.#grouped,
    );
    this.client = config.client;
    this.group = settings.group ?? "";
    this.consumerName = config.consumerName;
    this.claimIdleMs = config.claimIdleMs;
    this.#positioning = {
      client: config.client,
      streams: settings.streams,
      group: settings.group,
      earliest: settings.autoStreamReset === "earliest",
      mkstream: config.mkstream,
    };
  }

  /** Moves so far: commits of messages read before the last one are stale. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Find the shards and position on each (creating groups). */
  async start(): Promise<void> {
    await this.#reader.start();
    await this.#discover(true);
    this.#lastScan = Date.now();
    if (!this.#settings.live) {
      // Every shard's last entry, asked at once (one round trip, not one per shard).
      const shards = [...this.#shards.values()];
      const lasts = await Promise.all(shards.map((shard) => lastId(this.client, shard.key)));
      this.#ends = new Map();
      for (let i = 0; i < shards.length; i++) {
        const end = parseId(lasts[i]);
        if (end.ms > 0 || end.seq > 0) this.#ends.set(shards[i].key, end);
      }
      this.#endsAtStart = new Map(this.#ends);
    }
  }

  // ---- fetching ----

  /** The next read's messages (up to `max`); nothing if `signal` aborts first. */
  async fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    if (this.#leftover !== undefined) return this.#takeLeftover(max);
    if (this.#ends?.size === 0 && this.#reading === undefined) {
      throw new StreamError("Closed", "redis: read to where the streams ended at the start");
    }
    const count = this.#loadBalanced ? Math.min(max, MAX_READ) : this.#readCount();
    const reading = this.#reading ?? this.#startReading(count);
    const read = await abortable(reading, signal);
    // Aborted: core moves or closes next, which stops the read; a blocked one at once.
    if (read === undefined) {
      this.#reader.interrupt();
      return [];
    }
    this.#reading = undefined;
    if (read.length > max) {
      this.#leftover = read;
      this.#leftoverAt = 0;
      return this.#takeLeftover(max);
    }
    this.#readAhead();
    return read;
  }

  #takeLeftover(max: number): RedisMessage[] {
    const leftover = this.#leftover!;
    const start = this.#leftoverAt;
    const end = Math.min(leftover.length, start + max);
    this.#leftoverAt = end;
    if (end === leftover.length) {
      this.#leftover = undefined;
      this.#readAhead();
    }
    return leftover.slice(start, end);
  }

  /** Start the next read now, so it overlaps the consumer's work (not load-balanced). */
  #readAhead(): void {
    if (this.#ends?.size === 0) return;
    if (!this.#loadBalanced && !this.#closed && this.#reading === undefined) {
      this.#startReading(this.#readCount());
    }
  }

  #readCount(): number {
    return Math.min(this.#settings.prefetch, MAX_READ);
  }

  #startReading(count: number): Promise<RedisMessage[]> {
    const stop = new AbortController();
    this.#stopReading = stop;
    const reading = this.#read(count, stop.signal);
    reading.catch(() => {}); // a read ahead may fail with nobody waiting: the next fetch sees it
    this.#reading = reading;
    return reading;
  }

  /** Stop the read in flight (at once if blocked) and forget its messages. */
  async #stop(): Promise<void> {
    this.#stopReading.abort();
    this.#reader.interrupt();
    await this.#reading?.catch(() => {});
    this.#reading = undefined;
    this.#leftover = undefined;
  }

  /** One read, retrying transient failures until it succeeds or is stopped. */
  async #read(count: number, stop: AbortSignal): Promise<RedisMessage[]> {
    let failures = 0;
    for (;;) {
      try {
        return await this.#readOnce(count, stop);
      } catch (error) {
        if (stop.aborted || this.#closed) return [];
        if (isReplyError(error, "NOGROUP")) {
          // The stream or group was removed (or the server lost its data): create it again.
          await Promise.all(
            [...this.#shards.values()].map((shard) =>
              createGroup({ ...this.#positioning, mkstream: true }, shard.key, "0")
            ),
          ).catch(() => {});
        } else if (
          error instanceof Error && error.name === "ReplyError" && !TRANSIENT.test(error.message)
        ) {
          throw backendError(error, "reading failed");
        }
        // A read whose reply was lost with the connection may have been served: its entries
        // are this member's pending ones now. Read those again (after the last delivered) first.
        if (this.#grouped) { for (const shard of this.#shards.values()) shard.pending = true; }
        failures++;
        await sleep(reconnectDelay(failures), stop).catch(() => {});
      }
    }
  }

  async #readOnce(count: number, stop: AbortSignal): Promise<RedisMessage[]> {
    if (this.#resync) {
      this.#resync = false;
      for (const shard of this.#shards.values()) {
        shard.pending = true;
        shard.cursor = shard.held.last()?.id ?? "0-0";
      }
    }
    const now = Date.now();
    if (now - this.#lastScan >= this.#config.shardScanMs) {
      this.#lastScan = now;
      await this.#discover(false);
    }
    const loadBalanced = this.#loadBalanced;
    if (loadBalanced && now - this.#lastClaim >= claimEvery(this.claimIdleMs)) {
      this.#lastClaim = now;
      const claimed = await this.#claim(count);
      if (claimed.length > 0) return claimed;
    }
    const batches = this.#readBatches();
    if (batches.length === 0) return [];
    const pending = this.#grouped && batches.some((batch) => batch.some((s) => s.pending));
    let block: number | undefined;
    // `live: false` never waits for more: an empty read means nothing is left.
    if (batches.length === 1 && !pending && this.#ends === undefined) {
      block = this.#config.blockMs;
      if (loadBalanced) block = Math.min(block, claimEvery(this.claimIdleMs));
    }
    const replies = await Promise.all(batches.map((batch) => this.#readBatch(batch, count, block)));
    const messages: RedisMessage[] = [];
    for (let i = 0; i < batches.length; i++) this.#collect(batches[i], replies[i], messages);
    if (messages.length === 0 && block === undefined && !pending) {
      await sleep(CLUSTER_POLL_MS, stop).catch(() => {});
    }
    return messages;
  }

  /** The shards, as one read (one server) or one per hash slot (a cluster). */
  #readBatches(): Shard[][] {
    const ends = this.#ends;
    const shards = [...this.#shards.values()].filter((shard) => !ends || ends.has(shard.key));
    if (shards.length === 0) return [];
    if (!this.#config.cluster) return [shards];
    const bySlot = new Map<number, Shard[]>();
    for (const shard of shards) {
      const list = bySlot.get(shard.slot);
      if (list) list.push(shard);
      else bySlot.set(shard.slot, [shard]);
    }
    return [...bySlot.values()];
  }

  #readBatch(batch: Shard[], count: number, block: number | undefined): Promise<StreamReply> {
    const args: (string | number | Buffer)[] = [];
    if (this.#grouped) args.push("GROUP", this.group, this.consumerName);
    args.push("COUNT", count);
    if (block !== undefined) args.push("BLOCK", block);
    args.push("STREAMS");
    for (const shard of batch) args.push(shard.key);
    for (const shard of batch) args.push(this.#grouped && !shard.pending ? ">" : shard.cursor);
    return this.#reader.read(
      this.#grouped ? "XREADGROUP" : "XREAD",
      args,
      block !== undefined,
    );
  }

  /** Append the messages of `reply` to `out`, holding them (group) and moving the cursors. */
  #collect(batch: Shard[], reply: StreamReply, out: RedisMessage[]): void {
    const seen = new Set<Shard>();
    for (const [key, entries] of reply ?? []) {
      const shard = this.#shards.get(key.toString());
      if (shard === undefined) continue;
      seen.add(shard);
      if (entries.length === 0) {
        // A group member's own pending entries are done when a read returns none for the key.
        if (!shard.pending) this.#ends?.delete(shard.key);
        shard.pending = false;
        continue;
      }
      this.#collectEntries(shard, this.#upToEnd(shard, entries), out, false);
      shard.cursor = entries[entries.length - 1][0];
    }
    for (const shard of batch) {
      if (!seen.has(shard)) {
        if (!shard.pending) this.#ends?.delete(shard.key);
        shard.pending = false;
      }
    }
  }

  /** `live: false`: the entries up to the shard's end (the shard is done once it is reached). */
  #upToEnd(shard: Shard, entries: Entry[]): Entry[] {
    const end = this.#ends?.get(shard.key);
    if (end === undefined) return entries;
    const id: EntryId = { ms: 0, seq: 0 };
    for (let i = 0; i < entries.length; i++) {
      parseIdBytes(entries[i][0], id);
      if (isAfter(end.ms, end.seq, id.ms, id.seq)) continue;
      this.#ends!.delete(shard.key); // the end is here
      return id.ms === end.ms && id.seq === end.seq ? entries.slice(0, i + 1) : entries.slice(0, i);
    }
    return entries;
  }

  /** Append `entries` of `shard` to `out` as messages; a group member holds them. */
  #collectEntries(shard: Shard, entries: Entry[], out: RedisMessage[], claimed: boolean): void {
    const epoch = this.#epoch;
    let gone: Buffer[] | undefined;
    for (let k = 0; k < entries.length; k++) {
      const [id, fields] = entries[k];
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
        epoch,
      );
      if (claimed) shard.held.insert(message);
      else if (this.#grouped) shard.held.add(message);
      out.push(message);
    }
    if (gone) this.client.callBuffer("XACK", shard.key, this.group, ...gone).catch(() => {});
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

  /** Take over up to `max` entries other members left idle. */
  async #claim(max: number): Promise<RedisMessage[]> {
    const claimed: RedisMessage[] = [];
    for (const shard of this.#shards.values()) {
      const entries = await claimIdle(this, shard.key, max - claimed.length);
      this.#collectEntries(shard, entries, claimed, true);
      if (claimed.length >= max) break;
    }
    return claimed;
  }

  // ---- shards ----

  async #discover(initial: boolean): Promise<void> {
    const added = await discoverShards(this.#positioning, this.#shards, initial);
    for (const shard of added) {
      this.#shards.set(shard.key, shard);
      this.#byHeader.set(shardOf(shard.stream, shard.shardId), shard);
    }
  }

  // ---- commits ----

  /** XACK the held entries up to each position. */
  commit(positions: readonly MessageHeader[]): Promise<CommitResults> {
    return ackPositions(this, positions);
  }

  /** The held entries of the shard a header belongs to. */
  heldOf(header: MessageHeader): { key: string; held: HeldEntries } | undefined {
    return this.#byHeader.get(shardOf(header.streamKey, header.shardId));
  }

  // ---- rewind and seek ----

  /**
   * Move every shard to `position` (`{ at }` inclusive). A real-time consumer
   * moves itself; a resumable consumer moves its group (XGROUP SETID),
   * acknowledging what it holds. Load-balanced members cannot move the group.
   */
  rewind(position: SeqPos): Promise<void> {
    if (typeof position === "object" && typeof position?.at !== "bigint") {
      return Promise.reject(new StreamError("Unsupported", "rewind({ at }) takes a bigint seqNo"));
    }
    if (position !== "beginning" && position !== "end" && typeof position !== "object") {
      return Promise.reject(
        new StreamError("Unsupported", `unknown position ${JSON.stringify(position)}`),
      );
    }
    return this.#moveTo((shard) => {
      if (position === "beginning") return "0-0";
      if (position === "end") return this.#grouped ? "$" : lastId(this.client, shard.key);
      return idBeforeSeqNo(position.at);
    });
  }

  /** Move every shard to its first entry with a timestamp >= `timestamp`. */
  seek(timestamp: Date): Promise<void> {
    if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) {
      return Promise.reject(new StreamError("Unsupported", "seek() takes a valid Date"));
    }
    return this.#moveTo(() => idBeforeMs(timestamp.getTime()));
  }

  async #moveTo(target: (shard: Shard) => string | Promise<string>): Promise<void> {
    if (this.#loadBalanced) {
      throw new StreamError(
        "Unsupported",
        "redis: rewind and seek are not supported on a load-balanced consumer (they would move the whole group)",
      );
    }
    await this.#stop();
    const shards = [...this.#shards.values()];
    const ids = await Promise.all(shards.map(target));
    if (this.#grouped) {
      try {
        await ackAll(this, shards);
        await Promise.all(
          shards.map((shard, i) =>
            this.client.call("XGROUP", "SETID", shard.key, this.group, ids[i])
          ),
        );
      } catch (error) {
        throw backendError(error, "cannot move the group");
      }
    }
    this.#epoch++;
    if (this.#endsAtStart) this.#ends = new Map(this.#endsAtStart);
    for (let i = 0; i < shards.length; i++) {
      shards[i].cursor = this.#grouped ? "0-0" : ids[i];
      shards[i].pending = false;
    }
  }

  // ---- end ----

  /** Stop reading and close the reading connection; a load-balanced member leaves if idle. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopReading.abort();
    // A read in flight fails at once (nobody waits for it): closing needs no round trip.
    this.#reader.close();
    this.#reading = undefined;
    this.#leftover = undefined;
    if (this.#loadBalanced) await leaveIfIdle(this, this.#shards.keys());
  }
}

/** `promise`'s value, or `undefined` as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
