/**
 * Acknowledgements of a group member: the entries it received and has not
 * acknowledged, per shard, in ID order; a commit XACKs them up to a position,
 * a move XACKs them all.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { type MessageHeader, StreamError } from "../../types.ts";
import type { RedisClient } from "./client.ts";
import { backendError } from "./errors.ts";
import { isAfter } from "./id.ts";
import { RedisHeader, type RedisMessage } from "./message.ts";

/** A shard's entries received and not yet acknowledged, in ID order. */
export class HeldEntries {
  #entries: RedisMessage[] = [];
  /** Entries before this index were acknowledged. */
  #head = 0;

  /** How many are held. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** The newest held entry. */
  last(): RedisMessage | undefined {
    return this.size > 0 ? this.#entries[this.#entries.length - 1] : undefined;
  }

  /** Hold a newly read entry (newer than every held one). */
  add(message: RedisMessage): void {
    this.#entries.push(message);
  }

  /** Hold a claimed entry, which may be older than some held ones. */
  insert(message: RedisMessage): void {
    const entries = this.#entries;
    let i = entries.length;
    while (
      i > this.#head && isAfter(entries[i - 1].ms, entries[i - 1].seq, message.ms, message.seq)
    ) {
      i--;
    }
    entries.splice(i, 0, message);
  }

  /** Stop holding the entries up to entry `ms-seq` (all of them without one); their IDs. */
  take(upTo?: { ms: number; seq: number }): Buffer[] {
    const entries = this.#entries;
    const start = this.#head;
    let end = start;
    if (upTo === undefined) end = entries.length;
    else {
      while (
        end < entries.length && !isAfter(entries[end].ms, entries[end].seq, upTo.ms, upTo.seq)
      ) {
        end++;
      }
    }
    if (end === start) return [];
    const ids = new Array<Buffer>(end - start);
    for (let i = start; i < end; i++) ids[i - start] = entries[i].id;
    if (end === entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (end > 1024 && end * 2 > entries.length) {
      // Drop the acknowledged prefix now and then, not at every commit.
      this.#entries = entries.slice(end);
      this.#head = 0;
    } else {
      this.#head = end;
    }
    return ids;
  }
}

/** What acknowledging needs from the consumer. */
export interface Acker {
  /** The shared command connection. */
  readonly client: RedisClient;
  /** The group. */
  readonly group: string;
  /** The held entries of a shard of a stream, if read. */
  heldOf(header: MessageHeader): { key: string; held: HeldEntries } | undefined;
  /** How many moves the consumer has made: positions read before the last one are stale. */
  readonly epoch: number;
}

/**
 * XACK, for each of `positions` (one per shard), the entries held up to it;
 * one result per position. A position read before the last move is stale (the
 * move acknowledged what was held then): it is skipped.
 */
export async function ackPositions(
  acker: Acker,
  positions: readonly MessageHeader[],
): Promise<(Error | undefined)[]> {
  const results: (Error | undefined)[] = new Array(positions.length).fill(undefined);
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < positions.length; i++) {
    const header = positions[i];
    const shard = acker.heldOf(header);
    if (shard === undefined) {
      results[i] = new StreamError(
        "StreamKeyNotFound",
        `redis consumer does not read shard ${header.shardId} of ${header.streamKey}`,
      );
      continue;
    }
    if (
      header instanceof RedisHeader && header.epoch !== undefined && header.epoch !== acker.epoch
    ) {
      continue;
    }
    const ids = shard.held.take(entryOf(header));
    if (ids.length > 0) acks.push(xack(acker, shard.key, ids));
  }
  await Promise.all(acks);
  return results;
}

/** XACK everything held on `shards` (before a move). */
export async function ackAll(
  acker: Acker,
  shards: Iterable<{ key: string; held: HeldEntries }>,
): Promise<void> {
  const acks: Promise<unknown>[] = [];
  for (const shard of shards) {
    const ids = shard.held.take();
    if (ids.length > 0) acks.push(xack(acker, shard.key, ids));
  }
  await Promise.all(acks);
}

async function xack(acker: Acker, key: string, ids: Buffer[]): Promise<void> {
  try {
    await acker.client.callBuffer("XACK", key, acker.group, ...ids);
  } catch (error) {
    throw backendError(error, "XACK failed");
  }
}

/** The entry ID a header stands for. */
function entryOf(header: MessageHeader): { ms: number; seq: number } {
  if (header instanceof RedisHeader) return header;
  return { ms: Number(header.seqNo >> 16n), seq: Number(header.seqNo & 0xffffn) };
}
