/**
 * Load-balanced consumers of a file, in one process or many: each member has
 * its own reader and claims byte ranges of the file in the group file (under
 * the group's lock): the next range from the group's cursor, up to the
 * messages its fetch asks for, so every message is in one claim, and goes to
 * one member. A member registers in the group file and beats every
 * {@link BEAT_MS}; commits move a claim's `done` on and finished claims go.
 * A member that ends hands its claims back (from their first uncommitted
 * message); one that dies (a dead pid on this host, or no beat for
 * {@link MEMBER_DEAD_MS}) has its claims taken over by the others: what it had taken
 * and not committed comes again (at least once). The group (its cursor) lives
 * on in the group file when its members end, as a Redis group does.
 *
 * @module
 */
import { type MessageHeader, StreamError } from "../../types.ts";
import { type ConsumerDriver, Fault, type Fetched } from "../../core/driver.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { hostname, pid, sleep, spawnTask, type Task } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import { FormatError } from "./format.ts";
import { AT_END, MessageReader } from "./reader.ts";
import { Subscription } from "./position.ts";
import { type ClaimEntry, type GroupFile, MEMBER_DEAD_MS, updateGroupFile } from "./offsets.ts";
import { processAlive } from "./lock.ts";

/** How often a member says it is alive, and an idle member looks for work. */
const BEAT_MS = 500;
/** The most messages a claim takes. */
const CLAIM_MAX = 1_000;
/** The most messages a claim reads past (of streams the group does not take). */
const SCAN_MAX = 4_096;
/** How long a live reader waits before reading bad-looking bytes again (a write may be under way). */
const REREAD_MS = 25;

/** A new load-balanced member of `settings.group` on the file `path`. */
export async function joinGroup(path: string, settings: ConsumerSettings): Promise<ConsumerDriver> {
  const reader = await MessageReader.open(path, {
    waitForHeader: settings.live ? settings.timeoutMs : undefined,
  });
  if (reader === undefined) return new BalancedMember(path, settings, undefined);
  try {
    const member = new BalancedMember(path, settings, reader);
    const start = settings.autoStreamReset === "latest"
      ? await reader.rewindToEnd()
      : reader.position;
    await member.join(start);
    return member;
  } catch (error) {
    await reader.close();
    throw error;
  }
}

/** A claim this member holds: what it read of it, what it handed out and what was committed. */
class Claim {
  entry: ClaimEntry;
  /** The claim's messages of the subscribed streams in file order; committed ones are cleared. */
  readonly messages: (FileMessage | undefined)[] = [];
  /** How many were handed out. */
  handed = 0;
  /** Every message before this index is committed. */
  #head = 0;
  /** Damage met in the claim, handed out before what follows it. */
  fault?: Fault;

  constructor(entry: ClaimEntry) {
    this.entry = entry;
  }

  /** Whether messages are left to hand out. */
  get ready(): boolean {
    return this.handed < this.messages.length;
  }

  /** The first message not committed, if any. */
  get firstOpen(): FileMessage | undefined {
    return this.messages[this.#head];
  }

  /** Committed: what was handed out on `header`'s shard up to it. */
  commit({ streamKey, shardId, seqNo }: MessageHeader): void {
    const messages = this.messages;
    for (let i = this.#head; i < this.handed; i++) {
      const header = messages[i]?.header;
      if (header === undefined || header.streamKey !== streamKey || header.shardId !== shardId) {
        continue;
      }
      if (header.seqNo > seqNo) break; // a shard's seqNos grow through the file
      messages[i] = undefined;
    }
    while (this.#head < this.handed && messages[this.#head] === undefined) this.#head++;
  }
}

/** The driver of one member of a load-balanced group. */
class BalancedMember implements ConsumerDriver {
  readonly #path: string;
  readonly #settings: ConsumerSettings;
  readonly #reader: MessageReader | undefined;
  readonly #subscription: Subscription;
  readonly #id = `${pid()}-${hostname()}-${Math.random().toString(36).slice(2, 10)}`;
  /** A replay (`live: false`) ends at the file's size when the member joined. */
  readonly #endAt: number;
  #claims: Claim[] = [];
  #beat: Task<void> | undefined;
  #syncing: Promise<void> | undefined;
  /** A write not started yet: later calls join it. */
  #queued: Promise<void> | undefined;
  #resync = false;
  #closed = false;
  /** The offset of bad bytes read once already (a live reader looks twice). */
  #reread = -1;

  constructor(path: string, settings: ConsumerSettings, reader: MessageReader | undefined) {
    this.#path = path;
    this.#settings = settings;
    this.#reader = reader;
    this.#subscription = new Subscription(settings.streams);
    this.#endAt = reader?.knownSize ?? 0;
  }

  /** Register in the group file (a new group starts at `start`) and start beating. */
  async join(start: number): Promise<void> {
    await this.#update((data) => {
      data.cursor ??= start;
      this.#register(data);
    });
    this.#beat = spawnTask(async (signal) => {
      while (!signal.aborted) {
        await sleep(BEAT_MS, signal).catch(() => {});
        if (!signal.aborted) await this.#sync().catch(() => {}); // a failed beat: the next one tries again
      }
    });
  }

  /** Up to `max` messages of this member's claims; claims more when it has none. */
  async fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    if (this.#reader === undefined) {
      throw new StreamError("Closed", `${this.#path}: the file is empty`);
    }
    for (;;) {
      if (this.#closed) throw new StreamError("Closed", "file: load-balanced member has ended");
      if (signal.aborted) return [];
      const handed = this.#handOut(max);
      if (handed !== undefined) return handed;
      const claimed = await this.#claim(Math.min(max, CLAIM_MAX));
      if (claimed === "claimed") continue;
      if (claimed === "ended") {
        throw new StreamError(
          "Closed",
          `${this.#path}: ${this.#settings.live ? "end of stream" : "end of file"}`,
        );
      }
      // Nothing to claim: wait for the file to grow, or for a beat (a member may have gone).
      const waiting = new AbortController();
      const stop = () => waiting.abort();
      signal.addEventListener("abort", stop, { once: true });
      const timer = setTimeout(stop, BEAT_MS);
      try {
        await this.#reader.waitForGrowth(waiting.signal).catch((error) => {
          if (!waiting.signal.aborted) throw error;
        });
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", stop);
      }
    }
  }

  /** Done with `positions` and what this member was given before them on their shards. */
  commit(positions: readonly MessageHeader[]): Promise<void> {
    for (const header of positions) {
      for (const claim of this.#claims) claim.commit(header);
    }
    // Kept in the group file soon (coalesced); until then a death only means more comes again.
    this.#sync().catch(() => {}); // a failed write: the next beat tries again
    return Promise.resolve();
  }

  /** Leave the group, handing back what was not committed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const beat = this.#beat;
    this.#beat = undefined;
    beat?.abort();
    await beat?.join().catch(() => {});
    try {
      if (this.#reader !== undefined) {
        await this.#syncing?.catch(() => {});
        await this.#update((data) => {
          this.#write(data);
          for (const claim of data.claims ?? []) {
            if (claim.member === this.#id) delete claim.member;
          }
          delete data.members?.[this.#id];
        });
      }
    } finally {
      this.#claims = [];
      await this.#reader?.close();
    }
  }

  /** Hand out up to `max` read messages of the claims (or a fault); `undefined` if none. */
  #handOut(max: number): Fetched | undefined {
    const out: FileMessage[] = [];
    for (const claim of this.#claims) {
      if (claim.fault !== undefined && !claim.ready) {
        if (out.length > 0) return out;
        const fault = claim.fault;
        claim.fault = undefined;
        return fault;
      }
      while (claim.ready && out.length < max) out.push(claim.messages[claim.handed++]!);
      // What follows a claim's damage waits until the fault is handed out.
      if (out.length >= max || claim.fault !== undefined) break;
    }
    return out.length > 0 ? out : undefined;
  }

  /**
   * Under the lock: take a claim of a gone member, else the next range from
   * the cursor; "ended" when a replay (or the stream) has nothing more.
   */
  async #claim(max: number): Promise<"claimed" | "none" | "ended"> {
    const reader = this.#reader!;
    // Nothing claimed: nothing to write (the beat keeps this member registered).
    const claimed = await this.#update<"claimed" | "ended" | false>(async (data) => {
      this.#register(data);
      this.#write(data);
      const orphan = (data.claims ?? []).find((claim) => claim.member === undefined);
      if (orphan !== undefined) {
        orphan.member = this.#id;
        const claim = new Claim(orphan);
        this.#moveTo(orphan.done, orphan.resync === true);
        await this.#read(claim, orphan.end, Infinity);
        this.#claims.push(claim);
        return "claimed";
      }
      const cursor = data.cursor ?? reader.position;
      if (data.ended || (!this.#settings.live && cursor >= this.#endAt)) return "ended";
      this.#moveTo(cursor, data.resync === true);
      const entry: ClaimEntry = { start: cursor, end: cursor, done: cursor, member: this.#id };
      if (data.resync) entry.resync = true;
      const claim = new Claim(entry);
      const eos = await this.#read(claim, this.#settings.live ? Infinity : this.#endAt, max);
      entry.end = reader.position;
      // A replay ends where nothing more can be read (a message cut short at its end included).
      if (entry.end === cursor && claim.fault === undefined) {
        return this.#settings.live ? false : "ended";
      }
      data.cursor = entry.end;
      if (this.#resync) data.resync = true;
      else delete data.resync;
      if (eos) data.ended = true;
      (data.claims ??= []).push(entry);
      this.#claims.push(claim);
      return "claimed";
    });
    return claimed === false ? "none" : claimed;
  }

  /**
   * Read messages of the subscribed streams into `claim` up to the offset
   * `end` or `max` of them; whether an end-of-stream message was read.
   */
  async #read(claim: Claim, end: number, max: number): Promise<boolean> {
    const reader = this.#reader!;
    this.#resync = false;
    for (let scanned = 0; claim.messages.length < max && scanned < SCAN_MAX; scanned++) {
      if (reader.position >= end) return false;
      const result = await reader.read();
      if (result === AT_END) return false;
      if (result instanceof FormatError) {
        // A live file may be read while a write is under way: look again once before reporting.
        if (this.#settings.live && this.#reread !== result.offset && end === Infinity) {
          this.#reread = result.offset;
          await sleep(REREAD_MS);
          reader.reread();
          if (claim.messages.length > 0) return false;
          continue;
        }
        const damage = await reader.resync(result);
        this.#resync = reader.decoder.skipping;
        claim.fault = new Fault(damage);
        return false;
      }
      if (result.offset >= end) {
        // Read past the claim's end (a replay's end): leave it for later.
        this.#moveTo(result.offset, false);
        return false;
      }
      if (this.#subscription.accepts(result.header.streamKey)) claim.messages.push(result);
      if (result.isEndOfStream) return true;
    }
    return false;
  }

  #moveTo(offset: number, resync: boolean): void {
    const reader = this.#reader!;
    if (reader.position === offset && !resync) return;
    if (resync) reader.resyncAfter(offset - 1);
    else reader.rewindToOffset(offset);
  }

  /** Beat, and write how far the claims are committed (calls while a write is under way share the next). */
  #sync(): Promise<void> {
    if (this.#closed || this.#reader === undefined) return Promise.resolve();
    if (this.#queued !== undefined) return this.#queued;
    const previous = this.#syncing ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => {
      this.#queued = undefined;
      return this.#update((data) => {
        this.#register(data);
        this.#write(data);
      });
    });
    this.#queued = next;
    const mine = next.finally(() => {
      if (this.#syncing === mine) this.#syncing = undefined;
    });
    this.#syncing = mine;
    return mine;
  }

  /** Register (beat) in `data`, dropping members that died. */
  #register(data: GroupFile): void {
    const members = data.members ??= {};
    const now = Date.now();
    const host = hostname();
    for (const [id, entry] of Object.entries(members)) {
      const dead = now - entry.beat > MEMBER_DEAD_MS ||
        (entry.host === host && !processAlive(entry.pid));
      if (dead && id !== this.#id) delete members[id];
    }
    members[this.#id] = { pid: pid(), host, beat: now };
    for (const claim of data.claims ?? []) {
      if (claim.member !== undefined && members[claim.member] === undefined) delete claim.member;
    }
  }

  /** Write this member's claims into `data`: how far each is committed; finished ones go. */
  #write(data: GroupFile): void {
    const claims = data.claims ??= [];
    const kept: Claim[] = [];
    for (const claim of this.#claims) {
      const entry = claims.find((c) => c.start === claim.entry.start);
      // Taken over while this member was silent: another has it now.
      if (entry === undefined || entry.member !== this.#id) continue;
      const first = claim.firstOpen;
      if (first === undefined && claim.fault === undefined) {
        claims.splice(claims.indexOf(entry), 1);
        continue;
      }
      if (first !== undefined && first.offset > entry.done) {
        entry.done = first.offset;
        delete entry.resync;
      }
      claim.entry = entry;
      kept.push(claim);
    }
    this.#claims = kept;
  }

  #update<T>(change: (data: GroupFile) => T | Promise<T>): Promise<T> {
    return updateGroupFile(this.#path, this.#settings.group!, this.#reader!.header, change);
  }
}
