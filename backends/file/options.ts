/**
 * The file backend's options.
 *
 * @module
 */

/**
 * Options of the file backend's streamer.
 *
 * @example
 * ```ts
 * import type { FileConnectOptions } from "@seastreamer/seastreamer";
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const file: FileConnectOptions = {
 *   createOnly: true,
 *   beaconInterval: 64 * 1024,
 *   endWithEos: true,
 * };
 * const streamer = await connect(`file://${dir}/events.ss`, { file });
 * console.log(streamer.uri.endsWith("/events.ss")); // true
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export interface FileConnectOptions {
  /** Create the file if it does not exist (default: false, a missing file is `StreamKeyNotFound`). */
  createIfNotExists?: boolean;
  /** Fail (`StreamError("Connect")`) unless this call creates the file. */
  createOnly?: boolean;
  /**
   * Write SeaStreamer's end-of-stream message when the streamer disconnects
   * (when the last streamer of this process writing the file does): live
   * consumers of the file then end. A later writer removes it and appends.
   */
  endWithEos?: boolean;
  /** Bytes between beacons of a new file, a multiple of 1024 (default 1 MiB); an existing file keeps its own. */
  beaconInterval?: number;
  /** The largest size the file may grow to, in bytes (default 16 GiB); sends beyond it fail. */
  fileSizeLimit?: number;
}

/**
 * Options of a file consumer (`ConsumerOptions.file`).
 *
 * @example
 * ```ts
 * import type { FileConsumerOptions } from "@seastreamer/seastreamer";
 *
 * const file: FileConsumerOptions = { live: false }; // replay, then end
 * console.log(file.live); // false
 * ```
 */
export interface FileConsumerOptions {
  /**
   * `false`: replay what the file holds when the consumer begins, then end
   * (`next()` rejects with `StreamError("Closed")`); `true` (default): follow
   * the file as it grows, until an end-of-stream message or the file's
   * removal. `ConsumerOptions.live`, where given, wins.
   */
  live?: boolean;
}
