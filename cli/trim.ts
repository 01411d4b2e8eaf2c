/**
 * `seastreamer trim`: trim a Redis stream (XTRIM), by length, ID or age.
 *
 * @module
 */
import { parseStreamUrl } from "../types.ts";
import { stdout } from "../runtime/mod.ts";
import { encodeUtf8 } from "../core/message.ts";
import { type ParsedArgs, parseDuration, required, UsageError } from "./args.ts";

/** `trim --stream URL (--maxlen N | --minid ID | --max-age D) [--exact]`. */
export async function trim(args: ParsedArgs): Promise<number> {
  const { streamer, streams } = parseStreamUrl(required(args, "stream"));
  if (!/^rediss?:\/\//i.test(streamer)) throw new UsageError("trim works on redis:// streams");
  if (streams.length === 0) throw new UsageError("--stream names no stream");
  const maxLen = args.options.get("maxlen");
  const minId = args.options.get("minid");
  const maxAge = args.options.get("max-age");
  if ([maxLen, minId, maxAge].filter((v) => v !== undefined).length !== 1) {
    throw new UsageError("give exactly one of --maxlen, --minid and --max-age");
  }
  if (maxLen !== undefined && !/^\d+$/.test(maxLen)) {
    throw new UsageError(`--maxlen takes a count, not ${JSON.stringify(maxLen)}`);
  }
  // Loaded only for this command: other commands never load ioredis.
  const { trimStream } = await import("../backends/redis/mod.ts");
  const writer = stdout().getWriter();
  try {
    for (const stream of streams) {
      const removed = await trimStream(streamer, stream, {
        maxLen: maxLen === undefined ? undefined : Number(maxLen),
        minId,
        maxAgeMs: maxAge === undefined ? undefined : parseDuration(maxAge),
        exact: args.flags.has("exact"),
      });
      await writer.write(encodeUtf8(`${stream}: ${removed} entries removed\n`));
    }
  } finally {
    writer.releaseLock();
  }
  return 0;
}
