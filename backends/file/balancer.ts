/**
 * Load-balanced consumers of a file within one process: the members of a
 * group share one reader, which hands each message to one member, round-robin
 * among the members that have room (a slow member does not hold up the
 * others). A member that ends gives back what it had received and not
 * committed; those messages go to the other members first. The group's
 * position lives as long as it has members: a group whose last member ends
 * starts afresh (from `autoStreamReset`) with its next member.
 *
 * @module
 */
import { type Message, type MessageHeader, StreamError, type StreamKey } from "../../types.ts";
import { QueueConsumer } from "../../core/queue_consumer.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { resolvePath, spawnTask, type Task } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import { type FormatError, SEA_STREAMER_INTERNAL } from "./format.ts";
import { MessageReader } from "./reader.ts";
import { type ConsumerHost, Corruption, isRealHeader, unwrap } from "./consumer.ts";
import { Subscription } from "./position.ts";
import { pump, type PumpSink } from "./pump.ts";

const balancers = new Map<string, Promise<Balancer>>();

/** Add a load-balanced member of `settings.group` on `host`'s file. */
export async function joinGroup(
  host: ConsumerHost,
  settings: ConsumerSettings,
  live: boolean,
): Promise<QueueConsumer> {
  const key = `${resolvePath(host.path)}\n${settings.group}`;
  let opening = balancers.get(key);
  if (opening === undefined) {
    opening = Balancer.open(key, host.path, settings, live);
    balancers.set(key, opening);
    opening.catch(() => balancers.delete(key));
  }
  const balancer = await opening;
  const member = new BalancedConsumer(host, settings, balancer);
  balancer.join(member);
  return member;
}

/** A member of a load-balanced group. */
class BalancedConsumer extends QueueConsumer {
  protected readonly backendName = "file";
  readonly #host: ConsumerHost;
  readonly #balancer: Balancer;
  readonly subscription: Subscription;
  /** Messages handed to this member and not yet committed, in order. */
  readonly pending = new Map<MessageHeader, FileMessage>();

  constructor(host: ConsumerHost, settings: ConsumerSettings, balancer: Balancer) {
    super(settings);
    this.#host = host;
    this.#balancer = balancer;
    this.subscription = new Subscription(settings.streams);
  }

  /** Whether this member can take a message now. */
  get hasRoom(): boolean {
    return this.queue.hasRoom && !this.queue.closed && !this.ended;
  }

  /** Whether this member takes no more messages (it ended, or its stream did). */
  get done(): boolean {
    return this.queue.closed || this.ended;
  }

  /** Take `message` (there is room). */
  take(message: Message): void {
    if (message instanceof Corruption) {
      this.queue.push(message);
      return;
    }
    this.pending.set(message.header, message as FileMessage);
    this.queue.push(message);
  }

  /** End this member's stream with `reason`. */
  closeWith(reason: unknown): void {
    this.queue.close(reason);
  }

  override next(signal?: AbortSignal): Promise<Message> {
    const waits = this.queue.length === 0;
    const taken = super.next(signal).then(unwrap);
    this.#balancer.wake();
    // A call that waits may be settled by end() before its caller awaits it:
    // that must not count as an unhandled rejection (the caller still sees it).
    if (waits) taken.catch(() => {});
    return taken;
  }

  /** Done with `header` and what came before it on its shard: it will not be redelivered. */
  protected override commitHeader(header: MessageHeader): Promise<void> {
    this.#forget(header);
    return Promise.resolve();
  }

  protected override autoCommit(header: MessageHeader): void {
    this.#forget(header);
  }

  protected close(): Promise<void> {
    this.#balancer.leave(this);
    this.#host.dropConsumer(this);
    return Promise.resolve();
  }

  #forget(header: MessageHeader): void {
    if (!isRealHeader(header)) return;
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
  readonly #reader: MessageReader | undefined;
  readonly #live: boolean;
  readonly #members: BalancedConsumer[] = [];
  #streams = new Set<StreamKey>();
  #wildcard = false;
  #next = 0;
  #task: Task<void> | undefined;
  #waiting: (() => void)[] = [];
  /** Messages given back by members that ended, to hand out before anything new. */
  #backlog: FileMessage[] = [];
  #draining: Promise<void> | undefined;
  #ended: unknown;

  private constructor(key: string, reader: MessageReader | undefined, live: boolean) {
    this.#key = key;
    this.#reader = reader;
    this.#live = live;
  }

  static async open(
    key: string,
    path: string,
    settings: ConsumerSettings,
    live: boolean,
  ): Promise<Balancer> {
    const reader = await MessageReader.open(path, {
      waitForHeader: live ? settings.timeoutMs : undefined,
    });
    if (reader === undefined) {
      const empty = new Balancer(key, undefined, live);
      empty.#ended = new StreamError("Closed", `${path}: the file is empty`);
      balancers.delete(key);
      return empty;
    }
    if (settings.autoStreamReset === "latest") await reader.rewindToEnd();
    const balancer = new Balancer(key, reader, live);
    balancer.#start();
    return balancer;
  }

  join(member: BalancedConsumer): void {
    if (this.#ended !== undefined) {
      member.closeWith(this.#ended);
      return;
    }
    this.#members.push(member);
    for (const stream of member.subscription.streams) this.#streams.add(stream);
    this.#wildcard ||= member.subscription.wildcard;
    this.wake();
  }

  leave(member: BalancedConsumer): void {
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
      this.#draining ??= this.#drainBacklog().finally(() => this.#draining = undefined);
    }
    this.wake();
  }

  /** A member took a message (or joined): there may be room. */
  wake(): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }

  #start(): void {
    const reader = this.#reader!;
    this.#task = spawnTask((signal) => {
      const sink: PumpSink = {
        deliver: (message) => this.#deliver(message, signal),
        corrupt: (error: FormatError) => this.#dispatch(new Corruption(error), signal),
        end: (reason) => this.#end(reason),
      };
      const accept = (message: FileMessage) => this.#accepts(message.header.streamKey);
      return pump(reader, this.#live, signal, accept, sink);
    });
  }

  #accepts(streamKey: StreamKey): boolean {
    return this.#streams.has(streamKey) ||
      (this.#wildcard && streamKey !== SEA_STREAMER_INTERNAL);
  }

  async #deliver(message: FileMessage, signal: AbortSignal): Promise<void> {
    if (this.#draining) await this.#draining;
    const waiting = this.#dispatch(message, signal);
    if (waiting) await waiting;
  }

  async #drainBacklog(): Promise<void> {
    const signal = this.#task?.signal;
    while (this.#backlog.length > 0 && signal && !signal.aborted) {
      const message = this.#backlog.shift()!;
      const waiting = this.#dispatch(message, signal);
      if (waiting) await waiting;
    }
  }

  /** Hand `message` to the next member with room that takes its stream; wait if none has room. */
  #dispatch(message: Message, signal: AbortSignal): Promise<void> | void {
    const members = this.#members;
    const count = members.length;
    let wanted = false;
    for (let i = 0; i < count; i++) {
      const member = members[(this.#next + i) % count];
      if (member.done) continue;
      if (
        !(message instanceof Corruption) && !member.subscription.accepts(message.header.streamKey)
      ) {
        continue;
      }
      wanted = true;
      if (!member.hasRoom) continue;
      this.#next = (this.#next + i + 1) % count;
      member.take(message);
      return;
    }
    if (!wanted || signal.aborted) return; // no member takes this stream any more
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(() =>
      this.#dispatch(message, signal)
    );
  }

  #end(reason: unknown): void {
    this.#ended = reason;
    balancers.delete(this.#key);
    for (const member of this.#members) member.closeWith(reason);
  }

  #shutDown(): void {
    balancers.delete(this.#key);
    this.#ended ??= new StreamError("Closed", "load-balanced group has no members");
    const task = this.#task;
    this.#task = undefined;
    task?.abort();
    this.wake();
    const reader = this.#reader;
    (async () => {
      await task?.join().catch(() => {});
      await reader?.close();
    })().catch(() => {});
  }
}
