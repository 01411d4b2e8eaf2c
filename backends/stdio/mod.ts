/**
 * The stdio backend: messages as lines on standard input and output, in
 * SeaStreamer's format `[timestamp | stream_key | seq_no | shard_id] payload`,
 * so processors connect with unix pipes: `producer | processor | consumer`.
 *
 * Real-time consumers only (a group shares messages round-robin); stdio keeps
 * no history, so resumable consumers, rewind and seek are `Unsupported`.
 *
 * @example
 * ```ts
 * import { formatLine, parseLine } from "@seastreamer/seastreamer/stdio";
 *
 * const line = formatLine(new Date(0), "orders", 0n, '{"id":1}');
 * const { header } = parseLine(new TextEncoder().encode(line));
 * console.log(header.streamKey); // orders
 * ```
 *
 * @module
 */
export { capabilities } from "./capabilities.ts";
export { connect } from "./streamer.ts";
export {
  BROADCAST,
  formatLine,
  formatTimestamp,
  type ParsedLine,
  parseLine,
  parseTimestamp,
  type PartialHeader,
} from "./format.ts";
export { LineSplitter, type LineSplitterOptions } from "./lines.ts";
