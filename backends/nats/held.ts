/**
 * What a group's (durable consumer's) reader holds: the messages delivered to
 * it and not acknowledged yet, in delivery order. A commit acknowledges, in
 * delivery order, what was delivered up to the committed message: a
 * redelivery that came after it (another member's, out of sequence order) is
 * not committed with it, nor is anything still waiting to be handed out.
 *
 * @module
 */
import type { NatsMessage } from "./message.ts";

/** What a delivery is, for a reader that holds messages. */
export type Delivery =
  /** Not held: hand it out. */
  | "new"
  /** A redelivery of a message held here (its ack wait ran out): handed out once already. */
  | "held"
  /** Came before the consumer was made again and was committed since: acknowledge it, hand it out no more. */
  | "done";

/** Delivered, not yet acknowledged, in delivery order. */
export class Held {
  /** By stream sequence; a Map keeps the order of first delivery. */
  readonly #messages = new Map<number, NatsMessage>();
  /** The last sequence received before the consumer was made again: what may come again. */
  #againUpTo = 0;

  /** How many are held. */
  get size(): number {
    return this.#messages.size;
  }

  /** The lowest sequence held, if any. */
  lowest(): number | undefined {
    let lowest: number | undefined;
    for (const seq of this.#messages.keys()) if (lowest === undefined || seq < lowest) lowest = seq;
    return lowest;
  }

  /** Take in a delivery; a redelivery of a held message replaces it (its newest ack subject counts). */
  receive(message: NatsMessage): Delivery {
    const seq = message.seq;
    const held = this.#messages.has(seq);
    if (!held && seq <= this.#againUpTo) return "done";
    this.#messages.set(seq, message);
    return held ? "held" : "new";
  }

  /** What a commit of shard `shardId` up to sequence `seq` acknowledges, in delivery order (none if it is not held). */
  upTo(seq: number, shardId: number): NatsMessage[] {
    const last = this.#messages.get(seq);
    // Not held: acknowledged already, with everything delivered before it.
    if (last === undefined || last.shardId !== shardId) return [];
    const done: NatsMessage[] = [];
    for (const message of this.#messages.values()) {
      if (message.shardId === shardId) done.push(message);
      if (message === last) break;
    }
    return done;
  }

  /** `messages` were acknowledged. */
  release(messages: readonly NatsMessage[]): void {
    for (const message of messages) this.#messages.delete(message.seq);
  }

  /**
   * The consumer was made again from the lowest held (or after `lastSeq`):
   * what came up to `lastSeq` comes again, held or committed meanwhile
   * (perhaps while the new consumer had not delivered it yet, so that the
   * acknowledgement did nothing).
   */
  remade(lastSeq: number): void {
    this.#againUpTo = lastSeq;
  }

  /** Everything held, forgotten. */
  takeAll(): NatsMessage[] {
    const all = [...this.#messages.values()];
    this.clear();
    return all;
  }

  /** Forget everything (the group moved). */
  clear(): void {
    this.#messages.clear();
    this.#againUpTo = 0;
  }
}
