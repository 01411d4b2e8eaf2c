/**
 * Message headers that make their `bigint` seqNo and `Date` timestamp when
 * first read: a consumer or producer of millions of messages mostly never
 * reads them (autoCommit and receipts nobody awaits), and both allocations
 * showed up in every backend's profile.
 *
 * @module
 */
import type { MessageHeader, ShardId, StreamKey } from "../types.ts";

/** A header's fields as plain data. */
interface HeaderFields {
  streamKey: StreamKey;
  shardId: ShardId;
  seqNo: bigint;
  timestamp: Date;
}

/**
 * A header whose seqNo and timestamp a backend computes on first read (then
 * kept). They are getters: `{ ...header }` does not copy them; JSON and the
 * console show every field. Backends' headers and receipts extend it.
 *
 * @example
 * ```ts
 * import { LazyHeader } from "@seastreamer/seastreamer";
 *
 * class OffsetHeader extends LazyHeader {
 *   constructor(stream: string, readonly offset: string, readonly ms: number) {
 *     super(stream, 0);
 *   }
 *   protected makeSeqNo(): bigint {
 *     return BigInt(this.offset); // parsed only if someone asks
 *   }
 *   protected timestampMs(): number {
 *     return this.ms;
 *   }
 * }
 * console.log(JSON.stringify(new OffsetHeader("orders", "41", 0)));
 * // {"streamKey":"orders","shardId":0,"seqNo":"41","timestamp":"1970-01-01T00:00:00.000Z"}
 * ```
 */
export abstract class LazyHeader implements MessageHeader {
  /** The stream the message belongs to. */
  readonly streamKey: StreamKey;
  /** The shard within the stream. */
  readonly shardId: ShardId;
  #seqNo: bigint | undefined;
  #timestamp: Date | undefined;

  /** A header of a message on `streamKey`, shard `shardId`. */
  constructor(streamKey: StreamKey, shardId: ShardId) {
    this.streamKey = streamKey;
    this.shardId = shardId;
  }

  /** The seqNo, computed (called once). */
  protected abstract makeSeqNo(): bigint;
  /** The timestamp in ms since the epoch (called once). */
  protected abstract timestampMs(): number;

  /** Strictly increasing within (streamKey, shardId). */
  get seqNo(): bigint {
    return this.#seqNo ??= this.makeSeqNo();
  }

  /** When the message was written (ms precision). */
  get timestamp(): Date {
    return this.#timestamp ??= new Date(this.timestampMs());
  }

  #fields(): HeaderFields {
    const { streamKey, shardId, seqNo, timestamp } = this;
    return { streamKey, shardId, seqNo, timestamp };
  }

  /** Plain data for `JSON.stringify`: the seqNo as a decimal string (JSON has no bigint). */
  toJSON(): { streamKey: StreamKey; shardId: ShardId; seqNo: string; timestamp: string } {
    return {
      streamKey: this.streamKey,
      shardId: this.shardId,
      seqNo: this.seqNo.toString(),
      timestamp: this.timestamp.toISOString(),
    };
  }

  /** Deno's console shows the fields, not the getters' absence. */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return `${this.constructor.name} ${inspect(this.#fields(), options)}`;
  }

  /** Node's and Bun's console show the fields, not the getters' absence. */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    return `${this.constructor.name} ${inspect(this.#fields(), options)}`;
  }
}
