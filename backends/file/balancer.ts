/**
 * Load-balanced consumers of a file within one process: the members of a
 * group share one reader, which hands each message to one member, round-robin
 * among the members that have room in their inbox (a slow member does not
 * hold up the others). A member that ends gives back what it had received and
 * not committed; those messages go to the other members first. The group's
 * position lives as long as it has members: a group whose last member ends
 * starts afresh (from `autoStreamReset`) with its next member.
 *
 * @module
 */
import { type MessageHeader, StreamError, type StreamKey } from "../../types.ts";
import { type ConsumerDriver, Fault, type Fetched } from "../../core/driver.ts";
import { Inbox } from "../../core/inbox.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { resolvePath, spawnTask, type Task } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import { SEA_STREAMER_INTERNAL } from "./format.ts";
import { MessageReader } from "./reader.ts";
import { Subscription } from "./position.ts";
import { FileSource } from "./source.ts";

/** Messages the shared reader takes from the file at a time. */
const READ_BATCH = 256;

const balancers = new Map<string, Promise<Balancer>>();

/** A new load-balanced member of `settings.group` on the file `path`. */
export async function joinGroup(path: string, settings: ConsumerSettings): Promise<ConsumerDriver> {
  const key = `${resolvePath(path)}\n${settings.group}`;
  let opening = balancers.get(key);
  if (opening === undefined) {
    opening = Balancer.open(key, path, settings);
    balancers.set(key, opening);
    opening.catch(() => balancers.delete(key));
  }
  const balancer = await opening;
  const member = new BalancedMember(settings, balancer);
  balancer.join(member);
  return member;
}

/** The driver of a member of a load-balanced group: fetches what the group's reader gave it. */
class BalancedMember implements ConsumerDriver {
  readonly #balancer: Balancer;
  readonly subscription: Subscription;
  /** What the reader gave this member, waiting for the consumer's fetch. */
  readonly inbox: Inbox;
  /** Messages given to this member and not yet committed, in order. */
  readonly pending = new Map<MessageHeader, FileMessage>();
  readonly #capacity: number;

  constructor(settings: ConsumerSettings, balancer: Balancer) {
    this.#balancer = balancer;
    this.subscription = new Subscription(settings.streams);
    // Half the prefetch: the consumer's buffer holds the rest, so a member holds about a prefetch.
    this.#capacity = Math.max(1, Math.ceil(settings.prefetch / 2));
    this.inbox = new Inbox(this.#capacity);
  }

  /** Whether this member can take a message now. */
  get hasRoom(): boolean {
    return !this.inbox.closed && this.inbox.size < this.#capacity;
  }

  /** Take `item` (there is room); the balancer is woken once there is room again. */
  take(item: FileMessage | Fault): void {
    if (!(item instanceof Fault)) this.pending.set(item.header, item);
    this.inbox.put(item instanceof Fault ? item : [item])?.then(() => this.#balancer.wake());
  }

  /** Up to `max` of the messages given to this member. */
  fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    return this.inbox.fetch(max, signal);
  }

  /** Done with `positions` and what came before them on their shards: not given back any more. */
  commit(positions: readonly MessageHeader[]): Promise<void> {
    for (const header of positions) this.#forget(header);
    return Promise.resolve();
  }

  /** Leave the group, giving back what was not committed. */
  close(): Promise<void> {
    this.inbox.close(new StreamError("Closed", "file: load-balanced member has ended"));
    this.#balancer.leave(this);
    return Promise.resolve();
  }

  #forget(header: MessageHeader): void {
    const { streamKey, shardId, seqNo } = header;
    for (const [pendingHeader] of this.pending) {
      if (
        pendingHeader.streamKey === streamKey && pendingHeader.shardId === shardId &&
        pendingHeader.seqNo <= seqNo
      ) {
        this.pending.delete(pendingHeader);
      }
      if (pendingHeader === header) break;
    }
  }
}

/** The shared reader of a group and its members. */
class Balancer {
  readonly #key: string;
  readonly #source: FileSource | undefined;
  readonly #members: BalancedMember[] = [];
  #streams = new Set<StreamKey>();
  #wildcard = false;
  #next = 0;
  #task: Task<void> | undefined;
  #waiting: (() => void)[] = [];
  /** Messages given back by members that ended, to hand out before anything new. */
  #backlog: FileMessage[] = [];
  #ended: unknown;
  readonly #accept = (message: FileMessage): boolean => {
    const streamKey = message.header.streamKey;
    return this.#streams.has(streamKey) ||
      (this.#wildcard && streamKey !== SEA_STREAMER_INTERNAL);
  };

  private constructor(key: string, source: FileSource | undefined) {
    this.#key = key;
    this.#source = source;
  }

  static async open(key: string, path: string, settings: ConsumerSettings): Promise<Balancer> {
    const reader = await MessageReader.open(path, {
      waitForHeader: settings.live ? settings.timeoutMs : undefined,
    });
    if (reader === undefined) {
      const empty = new Balancer(key, undefined);
      empty.#ended = new StreamError("Closed", `${path}: the file is empty`);
      balancers.delete(key);
      return empty;
    }
    try {
      if (settings.autoStreamReset === "latest") await reader.rewindToEnd();
    } catch (error) {
      await reader.close();
      throw error;
    }
    const balancer = new Balancer(key, new FileSource(reader, settings.live));
    balancer.#start();
    return balancer;
  }

  join(member: BalancedMember): void {
    if (this.#ended !== undefined) {
      member.inbox.close(this.#ended);
      return;
    }
    this.#members.push(member);
    for (const stream of member.subscription.streams) this.#streams.add(stream);
    this.#wildcard ||= member.subscription.wildcard;
    this.wake();
  }

  leave(member: BalancedMember): void {
    const index = this.#members.indexOf(member);
    if (index < 0) return;
    this.#members.splice(index, 1);
    this.#streams = new Set(this.#members.flatMap((m) => [...m.subscription.streams]));
    this.#wildcard = this.#members.some((m) => m.subscription.wildcard);
    if (this.#members.length === 0) {
      this.#shutDown();
      return;
    }
    if (member.pending.size > 0) {
      this.#backlog.push(...member.pending.values());
      this.#backlog.sort((a, b) => a.offset - b.offset);
      member.pending.clear();
    }
    this.wake();
  }

  /** A member took messages, joined or left: there may be room. */
  wake(): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }

  #start(): void {
    const source = this.#source!;
    this.#task = spawnTask(async (signal) => {
      try {
        while (!signal.aborted) {
          while (this.#backlog.length > 0 && !signal.aborted) {
            await this.#dispatch(this.#backlog.shift()!, signal);
          }
          const fetched = await source.fetch(READ_BATCH, signal, this.#accept);
          if (fetched instanceof Fault) {
            await this.#dispatch(fetched, signal);
            continue;
          }
          for (const message of fetched) {
            // A member that left gave back messages older than these: they go first.
            while (this.#backlog.length > 0 && !signal.aborted) {
              await this.#dispatch(this.#backlog.shift()!, signal);
            }
            await this.#dispatch(message as FileMessage, signal);
          }
        }
      } catch (error) {
        if (!signal.aborted) this.#end(error);
      }
    });
  }

  /** Hand `item` to the next member with room that takes it; wait while none has room. */
  async #dispatch(item: FileMessage | Fault, signal: AbortSignal): Promise<void> {
    for (;;) {
      const members = this.#members;
      const count = members.length;
      let wanted = false;
      for (let i = 0; i < count; i++) {
        const member = members[(this.#next + i) % count];
        if (member.inbox.closed) continue;
        if (!(item instanceof Fault) && !member.subscription.accepts(item.header.streamKey)) {
          continue;
        }
        wanted = true;
        if (!member.hasRoom) continue;
        this.#next = (this.#next + i + 1) % count;
        member.take(item);
        return;
      }
      if (!wanted || signal.aborted) return; // no member takes this stream any more
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  #end(reason: unknown): void {
    this.#ended = reason;
    balancers.delete(this.#key);
    for (const member of this.#members) member.inbox.close(reason);
  }

  #shutDown(): void {
    balancers.delete(this.#key);
    this.#ended ??= new StreamError("Closed", "load-balanced group has no members");
    const task = this.#task;
    this.#task = undefined;
    task?.abort();
    this.wake();
    const reader = this.#source?.reader;
    (async () => {
      await task?.join().catch(() => {});
      await reader?.close();
    })().catch(() => {});
  }
}
