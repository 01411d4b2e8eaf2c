/**
 * `seastreamer trim`: remove the oldest messages of streams, by length, entry
 * ID or age, through `streamer.trimStream` (Redis: XTRIM on every shard).
 *
 * @module
 */
import { parseStreamUrl, type TrimOptions } from "../types.ts";
import { SeaStreamer } from "../socket.ts";
import { stdout } from "../runtime/mod.ts";
import { encodeUtf8 } from "../core/message.ts";
import { type ParsedArgs, parseDuration, required, UsageError } from "./args.ts";

/**
 * The seqNo of `--minid`: a Redis entry ID `ms-seq` (or `ms`, meaning `ms-0`,
 * as XTRIM reads it) is seqNo `(ms << 16) | seq`.
 */
function seqNoOfId(id: string): bigint {
  const match = /^(\d+)(?:-(\d+))?$/.exec(id);
  if (!match || BigInt(match[2] ?? 0) > 0xffffn) {
    throw new UsageError(
      `--minid takes an entry ID such as 1700000000000-0, not ${JSON.stringify(id)}`,
    );
  }
  return (BigInt(match[1]) << 16n) | BigInt(match[2] ?? 0);
}

/** What the flags ask to keep. */
function trimOptions(args: ParsedArgs): TrimOptions {
  const maxLen = args.options.get("maxlen");
  const minSeq = args.options.get("min-seq");
  const minId = args.options.get("minid");
  const maxAge = args.options.get("max-age");
  if ([maxLen, minSeq, minId, maxAge].filter((v) => v !== undefined).length !== 1) {
    throw new UsageError("give exactly one of --maxlen, --min-seq, --minid and --max-age");
  }
  if (minSeq !== undefined) {
    if (!/^\d+$/.test(minSeq)) {
      throw new UsageError(`--min-seq takes a seqNo, not ${JSON.stringify(minSeq)}`);
    }
    return { minSeqNo: BigInt(minSeq) };
  }
  if (maxLen !== undefined) {
    if (!/^\d+$/.test(maxLen)) {
      throw new UsageError(`--maxlen takes a count, not ${JSON.stringify(maxLen)}`);
    }
    return { maxLength: Number(maxLen) };
  }
  if (minId !== undefined) return { minSeqNo: seqNoOfId(minId) };
  return { olderThan: new Date(Date.now() - parseDuration(maxAge!)) };
}

/** `trim --stream URL (--maxlen N | --min-seq SEQ | --minid ID | --max-age D) [--exact]`. */
export async function trim(args: ParsedArgs): Promise<number> {
  const { streamer: uri, streams } = parseStreamUrl(required(args, "stream"));
  if (streams.length === 0) throw new UsageError("--stream names no stream");
  // Trimming is always exact: --exact is accepted for the scripts that pass it.
  const options = trimOptions(args);
  const streamer = await SeaStreamer.connect(uri);
  try {
    const writer = stdout().getWriter();
    try {
      for (const stream of streams) {
        const removed = await streamer.trimStream(stream, options);
        await writer.write(encodeUtf8(`${stream}: ${removed} entries removed\n`));
      }
    } finally {
      writer.releaseLock();
    }
  } finally {
    await streamer.disconnect();
  }
  return 0;
}
