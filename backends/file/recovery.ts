/**
 * Finding where streams stood in the part of a file written before a writer
 * opened it: their last seq, latest timestamp and running checksum.
 *
 * @module
 */
import { StreamError, type StreamKey } from "../../types.ts";
import { CRC_INIT, runningChecksum } from "./crc.ts";
import type { Marker } from "./format.ts";
import type { FileMessage } from "./message.ts";
import { AT_END, MessageReader } from "./reader.ts";

/** What a stream's history in the file says: its last seq, latest timestamp, running checksum. */
export interface StreamState {
  /** The highest seq. */
  seqNo: bigint;
  /** The latest timestamp, ms. */
  timestamp: number;
  /** The running CRC-16 over its messages' checksums. */
  running: number;
}

/**
 * Finds streams' last seq in the part of a file written before this writer,
 * as SeaStreamer does: from the latest beacon that mentions the stream, read
 * on to the append point. A stream that no beacon mentions is found by one
 * scan of the whole file (done once, for all streams).
 */
export class Recovery {
  readonly #path: string;
  readonly #end: number;
  #reader: MessageReader | undefined;
  /** The latest marker of each stream seen walking the beacons backwards. */
  readonly #markers = new Map<StreamKey, { index: number; marker: Marker }>();
  #walkedTo: number | undefined;
  #everything: Map<StreamKey, StreamState> | undefined;

  /** A search in `path`, before the file offset `end`. */
  constructor(path: string, end: number) {
    this.#path = path;
    this.#end = end;
  }

  /** Close the file. */
  async close(): Promise<void> {
    await this.#reader?.close();
  }

  async #open(): Promise<MessageReader> {
    if (this.#reader === undefined) {
      const reader = await MessageReader.open(this.#path);
      if (reader === undefined) throw new StreamError("Backend", `${this.#path} is empty`);
      this.#reader = reader;
    }
    return this.#reader;
  }

  /** The state of `key` (shard 0) before the append point, `undefined` if it has no message there. */
  async lastOf(key: StreamKey): Promise<StreamState | undefined> {
    const reader = await this.#open();
    const found = await this.#findMarker(reader, key);
    if (found === undefined) return (await this.#scanEverything(reader)).get(key);
    const { index, marker } = found;
    const state: StreamState = {
      seqNo: marker.seqNo,
      timestamp: marker.timestamp,
      running: marker.runningChecksum,
    };
    reader.rewindToBeacon(index);
    await this.#scan(reader, (message) => {
      if (message.header.streamKey !== key || message.header.shardId !== 0) return;
      if (message.header.seqNo > state.seqNo) state.seqNo = message.header.seqNo;
      const time = message.header.timestamp.getTime();
      if (time > state.timestamp) state.timestamp = time;
      state.running = runningChecksum(state.running, message.checksum);
    });
    return state;
  }

  async #findMarker(reader: MessageReader, key: StreamKey) {
    const known = this.#markers.get(key);
    if (known !== undefined) return known;
    let index = this.#walkedTo ?? Math.floor(this.#end / reader.interval) + 1;
    while (index > 1) {
      index--;
      this.#walkedTo = index;
      if (index * reader.interval >= this.#end) continue;
      const beacon = await reader.readBeaconAt(index);
      for (const marker of beacon?.markers ?? []) {
        if (marker.shardId !== 0 || this.#markers.has(marker.streamKey)) continue;
        this.#markers.set(marker.streamKey, { index, marker });
      }
      const found = this.#markers.get(key);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Every stream in the part of the file before the append point (one scan, shared with `lastOf`). */
  async streams(): Promise<StreamKey[]> {
    return [...(await this.#scanEverything(await this.#open())).keys()];
  }

  async #scanEverything(reader: MessageReader): Promise<Map<StreamKey, StreamState>> {
    if (this.#everything) return this.#everything;
    const states = new Map<StreamKey, StreamState>();
    reader.rewindToBeginning();
    await this.#scan(reader, (message) => {
      const { streamKey, shardId, seqNo, timestamp } = message.header;
      if (shardId !== 0) return;
      let state = states.get(streamKey);
      if (state === undefined) {
        state = { seqNo, timestamp: timestamp.getTime(), running: CRC_INIT };
        states.set(streamKey, state);
      }
      if (seqNo > state.seqNo) state.seqNo = seqNo;
      if (timestamp.getTime() > state.timestamp) state.timestamp = timestamp.getTime();
      state.running = runningChecksum(state.running, message.checksum);
    });
    this.#everything = states;
    return states;
  }

  async #scan(
    reader: MessageReader,
    visit: (message: FileMessage) => void,
  ): Promise<void> {
    while (reader.position < this.#end) {
      const result = await reader.readPastDamage();
      if (result === AT_END) return;
      if (result.offset >= this.#end) return;
      visit(result);
    }
  }
}
