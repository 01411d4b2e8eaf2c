/**
 * The file backend: SeaStreamer's `.ss` stream files, byte for byte
 * compatible with SeaStreamer's Rust file backend. No server: producers append
 * to a file, consumers replay it, follow it as it grows (from this process or
 * another), jump with its beacons (`rewind`, `seek`) and resume.
 *
 * - URLs: `file:///abs/path/data.ss`, `file://./rel/data.ss`; a stream URL adds
 *   the streams: `file://./data.ss/orders,refunds`.
 * - Connect options (`file: {...}`): `createIfNotExists`, `createOnly`,
 *   `endWithEos`, `beaconInterval` (a multiple of 1024, default 1 MiB),
 *   `fileSizeLimit` (default 16 GiB).
 * - Producers: every producer of a file in one process shares one writer;
 *   messages go to shard 0, numbered from 1 per stream as SeaStreamer does;
 *   appending to an existing file continues each stream's numbering (found
 *   with the beacons). `flush()` resolves once the bytes are written to the OS.
 * - Consumers: real-time (`earliest` or `latest`), live by default (they end
 *   at an end-of-stream message or when the file is removed), or a replay
 *   with `live: false` (it ends at what the file held when it began);
 *   resumable (the group's last commits are kept in
 *   `<file>.group-<group>.json`, which `resetGroup` moves; commits of
 *   several processes merge, the furthest wins); load-balanced across
 *   processes (members claim ranges of the file in the group file, under a
 *   lock; a member that ends or dies has its uncommitted messages taken over
 *   by the others). Subscribe to
 *   {@link SEA_STREAMER_WILDCARD} to read every stream (but SeaStreamer's
 *   internal one). Bad bytes make one `next()` reject with a
 *   {@link Damage} (`StreamError("Corrupt")`) carrying the byte offset and
 *   the bytes skipped; reading goes on at the next message that checks out.
 * - Admin: `listStreams` and `describeStream` scan the file; `trimStream` is
 *   `Unsupported` (the file is append-only).
 * - Keys and headers are `Unsupported` (the format has none).
 *
 * @example Write, then replay
 * ```ts
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const streamer = await connect(`file://${dir}/clock.ss`, { file: { createIfNotExists: true } });
 * const producer = await streamer.createProducer("clock");
 * for (let i = 0; i < 3; i++) producer.send(`tick ${i}`);
 * await producer.flush();
 * const replay = await streamer.createConsumer(["clock"], {
 *   autoStreamReset: "earliest",
 *   live: false,
 * });
 * for await (const message of replay) console.log(message.header.seqNo, message.payload.text());
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 *
 * @module
 */
export { capabilities } from "./capabilities.ts";
export { connect, filePath } from "./streamer.ts";
export {
  Damage,
  decodeHeader,
  DEFAULT_BEACON_INTERVAL,
  DEFAULT_FILE_SIZE_LIMIT,
  encodeHeader,
  END_OF_STREAM,
  type FileHeader,
  FormatError,
  HEADER_SIZE,
  SEA_STREAMER_WILDCARD,
} from "./format.ts";
export { crc16, crcUpdate } from "./crc.ts";
export { groupFilePath } from "./offsets.ts";
