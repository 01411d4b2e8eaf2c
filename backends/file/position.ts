/**
 * Positioning a reader: which streams a consumer takes, the "gates" that hold
 * back each stream's messages until the first one at or after a target (a
 * seq, a time, a committed position), and the beacon surveys that find where
 * to start reading for a target without reading the file up to it.
 *
 * @module
 */
import type { StreamKey } from "../../types.ts";
import type { FileMessage } from "./message.ts";
import { type Marker, SEA_STREAMER_INTERNAL, SEA_STREAMER_WILDCARD } from "./format.ts";
import type { MessageReader, Side } from "./reader.ts";

/** The streams a consumer takes: named ones, or every one (the wildcard) but the internal stream. */
export class Subscription {
  /** The named streams. */
  readonly streams: ReadonlySet<StreamKey>;
  /** Whether the wildcard was given. */
  readonly wildcard: boolean;

  /** A subscription to `streams` ({@link SEA_STREAMER_WILDCARD} means every stream). */
  constructor(streams: readonly StreamKey[]) {
    this.streams = new Set(streams.filter((s) => s !== SEA_STREAMER_WILDCARD));
    this.wildcard = streams.includes(SEA_STREAMER_WILDCARD);
  }

  /** Whether a message of `streamKey` is taken. */
  accepts(streamKey: StreamKey): boolean {
    // Messages come in runs of one stream: remember the last answer.
    if (streamKey === this.#lastKey) return this.#lastAnswer;
    const answer = this.streams.has(streamKey) ||
      (this.wildcard && streamKey !== SEA_STREAMER_INTERNAL);
    this.#lastKey = streamKey;
    this.#lastAnswer = answer;
    return answer;
  }

  #lastKey: StreamKey | undefined;
  #lastAnswer = false;

  /** Whether a beacon marker is about a taken stream. */
  acceptsMarker(marker: Marker): boolean {
    return this.accepts(marker.streamKey);
  }
}

/** A test a stream's first delivered message must pass (later ones pass freely). */
export type Gate = (message: FileMessage) => boolean;

/** The key of a (stream, shard) slot. */
function slot(message: FileMessage): string {
  const { streamKey, shardId } = message.header;
  return shardId === 0 ? streamKey : `${streamKey}/${shardId}`;
}

/** The slot key of (stream, shard), as {@link Gates} uses it. */
export function gateKey(streamKey: StreamKey, shardId: number): string {
  return shardId === 0 ? streamKey : `${streamKey}/${shardId}`;
}

/**
 * Per (stream, shard) gates: a message passes if its slot is open, or if it
 * passes the slot's gate (which opens the slot). Slots without a gate of
 * their own use the fallback gate (none: they are open).
 */
export class Gates {
  readonly #closed: Map<string, Gate>;
  readonly #fallback: Gate | undefined;
  readonly #open = new Set<string>();

  /** Gates for some slots (by {@link gateKey}), and a fallback for the others. */
  constructor(gates: Map<string, Gate>, fallback: Gate | undefined) {
    this.#closed = gates;
    this.#fallback = fallback;
  }

  /** Whether every slot is open for good (the gates can be dropped). */
  get allOpen(): boolean {
    return this.#closed.size === 0 && this.#fallback === undefined;
  }

  /** Whether `message` passes (opening its slot if it is the first to). */
  pass(message: FileMessage): boolean {
    const key = slot(message);
    if (this.#open.has(key)) return true;
    const gate = this.#closed.get(key) ?? this.#fallback;
    if (gate !== undefined && !gate(message)) return false;
    this.#closed.delete(key);
    if (this.#fallback !== undefined) this.#open.add(key);
    return true;
  }
}

/** Where to start reading: just after beacon `index` (0: the first message), or exactly at `offset`. */
export type Start = { index: number } | { offset: number };

/** The file offset a {@link Start} stands for. */
export function startOffset(start: Start, interval: number): number {
  return "offset" in start ? start.offset : start.index * interval;
}

/** The earlier of two starts. */
export function earlier(a: Start, b: Start, interval: number): Start {
  return startOffset(a, interval) <= startOffset(b, interval) ? a : b;
}

/** Move `reader` to `start`. */
export function moveTo(reader: MessageReader, start: Start): void {
  if ("offset" in start) reader.rewindToOffset(start.offset);
  else reader.rewindToBeacon(start.index);
}

/**
 * The last beacon before which no message of the markers' slots chosen by
 * `about` reaches the target (`before(marker)`: the marker's stream is still
 * short of it), found by a survey of the beacons, one slot group at a time
 * (the earliest wins). `groups` lists the marker filters to survey separately.
 */
export async function surveyStart(
  reader: MessageReader,
  groups: readonly ((marker: Marker) => boolean)[],
  before: (marker: Marker) => boolean,
): Promise<Start> {
  let index = Number.MAX_SAFE_INTEGER;
  for (const about of groups) {
    const found = await reader.survey((markers): Side => {
      let seen = false;
      for (const marker of markers) {
        if (!about(marker)) continue;
        if (!before(marker)) return "right";
        seen = true;
      }
      return seen ? "left" : "undecided";
    });
    index = Math.min(index, found);
    if (index === 0) break;
  }
  return { index: index === Number.MAX_SAFE_INTEGER ? 0 : index };
}

/** The survey groups for a subscription: one per named stream, or one over every stream. */
export function streamGroups(subscription: Subscription): ((marker: Marker) => boolean)[] {
  if (subscription.wildcard) return [(marker) => subscription.acceptsMarker(marker)];
  return [...subscription.streams].map((stream) => (marker: Marker) => marker.streamKey === stream);
}
