/**
 * The driver of a file consumer with a reader of its own: real-time (from the
 * first or the next message, following the file) and resumable (from after
 * the group's last commit, kept in a group file beside the stream file).
 *
 * @module
 */
import { type MessageHeader, type SeqPos, StreamError } from "../../types.ts";
import type { ConsumerDriver, Fetched } from "../../core/driver.ts";
import type { ConsumerSettings } from "../../core/options.ts";
import { resolvePath } from "../../runtime/mod.ts";
import type { FileMessage } from "./message.ts";
import type { Marker } from "./format.ts";
import { MessageReader } from "./reader.ts";
import { GroupOffsets, slotKey } from "./offsets.ts";
import {
  earlier,
  type Gate,
  gateKey,
  Gates,
  moveTo,
  type Start,
  streamGroups,
  Subscription,
  surveyStart,
} from "./position.ts";
import { FileSource } from "./source.ts";

/** The resumable consumers of this process, by file and group (`resetGroup` moves them too). */
const members = new Map<string, Set<FileConsumerDriver>>();

function memberKey(path: string, group: string): string {
  return `${resolvePath(path)}\n${group}`;
}

/** The running resumable consumers of `group` on the file `path` in this process. */
export function resumableMembers(path: string, group: string): FileConsumerDriver[] {
  return [...members.get(memberKey(path, group)) ?? []];
}

/**
 * Reads the file with its own reader. Bad bytes are a fault (one `next()`
 * rejects with a `FormatError` carrying the byte offset); reading goes on after
 * the next beacon.
 */
export class FileConsumerDriver implements ConsumerDriver {
  readonly #path: string;
  readonly #settings: ConsumerSettings;
  readonly #subscription: Subscription;
  readonly #source: FileSource | undefined;
  readonly #offsets: GroupOffsets | undefined;
  #gates: Gates | undefined;
  /** Set by `resetGroup`: the next fetch starts again from the group's (moved) commits. */
  #regrouped = false;
  /** The running fetch's signal, aborted by `resetGroup` to wake a fetch waiting for the file to grow. */
  #waking: AbortController | undefined;
  readonly #accept = (message: FileMessage): boolean => {
    if (!this.#subscription.accepts(message.header.streamKey)) return false;
    const gates = this.#gates;
    if (gates === undefined) return true;
    if (!gates.pass(message)) return false;
    if (gates.allOpen) this.#gates = undefined;
    return true;
  };

  private constructor(
    path: string,
    settings: ConsumerSettings,
    source: FileSource | undefined,
    offsets: GroupOffsets | undefined,
  ) {
    this.#path = path;
    this.#settings = settings;
    this.#subscription = new Subscription(settings.streams);
    this.#source = source;
    this.#offsets = offsets;
  }

  /**
   * A consumer of the file `path`, positioned as `settings` say. A live
   * consumer of a file without a header yet waits up to `timeoutMs` for one.
   */
  static async open(path: string, settings: ConsumerSettings): Promise<FileConsumerDriver> {
    const reader = await MessageReader.open(path, {
      waitForHeader: settings.live ? settings.timeoutMs : undefined,
    });
    if (reader === undefined) return new FileConsumerDriver(path, settings, undefined, undefined);
    try {
      const offsets = settings.mode === "resumable"
        ? await GroupOffsets.load(path, settings.group!, reader.header)
        : undefined;
      const consumer = new FileConsumerDriver(
        path,
        settings,
        new FileSource(reader, settings.live),
        offsets,
      );
      if (offsets) {
        await consumer.#resume(reader, offsets);
        const key = memberKey(path, settings.group!);
        members.set(key, (members.get(key) ?? new Set()).add(consumer));
      } else if (settings.autoStreamReset === "latest") await reader.rewindToEnd();
      return consumer;
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  /** Up to `max` messages of the subscribed streams, or a fault. */
  async fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    const source = this.#source;
    if (source === undefined) throw new StreamError("Closed", `${this.#path}: the file is empty`);
    if (this.#offsets === undefined) return await source.fetch(max, signal, this.#accept);
    for (;;) {
      if (signal.aborted) return [];
      if (this.#regrouped) {
        this.#regrouped = false;
        await this.#resume(source.reader, this.#offsets);
        source.moved();
      }
      // A fetch waiting for the file to grow wakes for a reset too.
      const waking = new AbortController();
      const stop = () => waking.abort(signal.reason);
      signal.addEventListener("abort", stop, { once: true });
      this.#waking = waking;
      try {
        return await source.fetch(max, waking.signal, this.#accept);
      } catch (error) {
        if (signal.aborted || !this.#regrouped) throw error;
      } finally {
        this.#waking = undefined;
        signal.removeEventListener("abort", stop);
      }
    }
  }

  /**
   * The group was moved (`resetGroup`) to just after `header` on its shard:
   * take it as committed, and read from there (what was fetched before is handed out first).
   */
  regroup(header: MessageHeader): void {
    if (!this.#subscription.accepts(header.streamKey)) return;
    this.#offsets!.set(header);
    this.#regrouped = true;
    this.#waking?.abort();
  }

  /** Keep `positions` (and what came before them on their shards) as the group's, on disk. */
  async commit(positions: readonly MessageHeader[]): Promise<void> {
    const offsets = this.#offsets;
    if (offsets === undefined) {
      throw new StreamError("Unsupported", "file: only a resumable consumer commits");
    }
    for (const header of positions) offsets.set(header);
    await offsets.save();
  }

  /** Move every stream to `position` (jumping with the beacons for `{ at }`). */
  async rewind(position: SeqPos): Promise<void> {
    const reader = this.#reader();
    if (position === "beginning") {
      reader.rewindToBeginning();
      this.#gates = undefined;
    } else if (position === "end") {
      await reader.rewindToEnd();
      this.#gates = undefined;
    } else if (typeof position === "object" && typeof position?.at === "bigint") {
      const at = position.at;
      moveTo(
        reader,
        await surveyStart(reader, streamGroups(this.#subscription), (m) => m.seqNo < at),
      );
      this.#gates = new Gates(new Map(), (message) => message.header.seqNo >= at);
    } else {
      throw new StreamError("Unsupported", `rewind to "beginning", "end" or { at: bigint }`);
    }
    this.#regrouped = false;
    this.#source!.moved();
  }

  /** Move to the first message with a timestamp at or after `timestamp` (jumping with the beacons). */
  async seek(timestamp: Date): Promise<void> {
    const reader = this.#reader();
    const time = timestamp instanceof Date ? timestamp.getTime() : NaN;
    if (Number.isNaN(time)) throw new StreamError("Unsupported", "seek needs a valid Date");
    const before = (marker: Marker) => marker.timestamp < time;
    moveTo(reader, await surveyStart(reader, streamGroups(this.#subscription), before));
    this.#gates = new Gates(new Map(), (message) => message.header.timestamp.getTime() >= time);
    this.#regrouped = false;
    this.#source!.moved();
  }

  /** Save the group's position, close the file. */
  async close(): Promise<void> {
    if (this.#settings.group !== undefined) {
      const key = memberKey(this.#path, this.#settings.group);
      members.get(key)?.delete(this);
      if (members.get(key)?.size === 0) members.delete(key);
    }
    try {
      await this.#offsets?.save();
    } finally {
      await this.#source?.reader.close();
    }
  }

  #reader(): MessageReader {
    if (this.#source === undefined) {
      throw new StreamError("Closed", `${this.#path}: the file is empty`);
    }
    return this.#source.reader;
  }

  /** Position a resumable consumer after its group's commits. */
  async #resume(reader: MessageReader, offsets: GroupOffsets): Promise<void> {
    const subscription = this.#subscription;
    const gates = new Map<string, Gate>();
    const committedStreams = new Set<string>();
    const slots: { stream: string; shard: number; seq: bigint }[] = [];
    for (const [slot, seq] of offsets.committed) {
      const cut = slot.lastIndexOf("/");
      const stream = slot.slice(0, cut);
      const shard = Number(slot.slice(cut + 1));
      if (!subscription.accepts(stream) || slot !== slotKey(stream, shard)) continue;
      committedStreams.add(stream);
      slots.push({ stream, shard, seq });
      gates.set(gateKey(stream, shard), (message) => message.header.seqNo > seq);
    }
    const uncommitted = subscription.wildcard ||
      [...subscription.streams].some((stream) => !committedStreams.has(stream));
    let fallback: Gate | undefined;
    let start: Start | undefined;
    if (uncommitted) {
      if (this.#settings.autoStreamReset === "earliest") {
        start = { index: 0 };
      } else {
        const end = await reader.rewindToEnd();
        fallback = (message) => message.offset >= end;
        start = { offset: end };
      }
    }
    for (const { stream, shard, seq } of slots) {
      if (start !== undefined && "index" in start && start.index === 0) break;
      const found = await surveyStart(
        reader,
        [(marker) => marker.streamKey === stream && marker.shardId === shard],
        (marker) => marker.seqNo <= seq,
      );
      start = start === undefined ? found : earlier(start, found, reader.interval);
    }
    moveTo(reader, start ?? { index: 0 });
    this.#gates = gates.size > 0 || fallback ? new Gates(gates, fallback) : undefined;
  }
}
