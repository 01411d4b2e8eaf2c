/**
 * `seastreamer decode FILE`: print a `.ss` file's messages, as SeaStreamer's
 * `ss-decode` does, without a streamer (no live tail, no group).
 *
 * @module
 */
import { printError, stdout } from "../runtime/mod.ts";
import { AT_END, MessageReader } from "../backends/file/reader.ts";
import { FormatError, type Marker } from "../backends/file/format.ts";
import { formatTimestamp } from "../backends/stdio/format.ts";
import type { ParsedArgs } from "./args.ts";
import { UsageError } from "./args.ts";
import { formatMessage, LineWriter } from "./output.ts";
import type { Shutdown } from "../runtime/mod.ts";

function markerJson(marker: Marker): Record<string, unknown> {
  return {
    stream: marker.streamKey,
    shard: marker.shardId,
    seq: marker.seqNo.toString(),
    timestamp: formatTimestamp(new Date(marker.timestamp)),
    runningChecksum: marker.runningChecksum,
  };
}

/**
 * `decode FILE [--format log|ndjson] [--header-only]`: one line per message,
 * `[timestamp | stream | seq | shard] payload` (log) or a JSON object (ndjson);
 * with `--header-only`, no payloads. The log format also prints the file header
 * and each beacon's markers as `#` lines. Bad bytes are reported on stderr with
 * their offset and the bytes skipped (to the next message that checks out);
 * the exit code is then 1.
 */
export async function decode(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const format = args.options.get("format") ?? "log";
  if (format !== "log" && format !== "ndjson") {
    throw new UsageError(`--format is log or ndjson, not ${format}`);
  }
  if (args.positional.length !== 1) throw new UsageError("decode takes one FILE");
  const path = args.positional[0];
  const headerOnly = args.flags.has("header-only");
  const reader = await MessageReader.open(path);
  const out = new LineWriter(stdout());
  let failed = false;
  try {
    if (reader === undefined) {
      printError(`seastreamer decode: ${path} is empty`);
      return 0;
    }
    const { fileName, createdAt, beaconInterval } = reader.header;
    if (format === "log") {
      await out.write(
        `# ${
          JSON.stringify({
            fileName,
            createdAt: formatTimestamp(new Date(createdAt)),
            beaconInterval,
          })
        }`,
      );
    }
    let beacon = 0;
    while (!shutdown.signal.aborted) {
      const result = await reader.read();
      if (result === AT_END) {
        const damage = reader.position < reader.knownSize ? await reader.damageAtEnd() : undefined;
        if (damage) {
          failed = true;
          printError(`seastreamer decode: ${damage.message}`);
          continue;
        }
        if (reader.position < reader.knownSize) {
          failed = true;
          printError(
            `seastreamer decode: ${path}: message cut short at byte offset ${reader.position} (the file ends at ${reader.knownSize})`,
          );
        }
        break;
      }
      if (result instanceof FormatError) {
        failed = true;
        printError(`seastreamer decode: ${(await reader.resync(result)).message}`);
        continue;
      }
      await out.write(formatMessage(result, format, headerOnly));
      const decoder = reader.decoder;
      if (format === "log" && decoder.beaconIndex !== beacon) {
        beacon = decoder.beaconIndex;
        await out.write(
          `# beacon ${beacon} at ${beacon * beaconInterval}: ${
            JSON.stringify(decoder.markers.map(markerJson))
          }`,
        );
      }
      if (result.isEndOfStream) break;
    }
  } finally {
    await out.close().catch(() => {});
    await reader?.close();
  }
  return failed ? 1 : 0;
}
