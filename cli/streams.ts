/**
 * `seastreamer streams` and `seastreamer groups`: what a backend holds, through
 * the public admin API (`listStreams`, `describeStream`, `resetGroup`).
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import {
  parseStreamUrl,
  type SeqPos,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
} from "../types.ts";
import { stdout } from "../runtime/mod.ts";
import { type ParsedArgs, required, UsageError } from "./args.ts";
import { parseTime } from "./consume.ts";
import { LineWriter } from "./output.ts";

type Format = "table" | "ndjson";

function formatOf(args: ParsedArgs): Format {
  const format = args.options.get("format") ?? "table";
  if (format !== "table" && format !== "ndjson") {
    throw new UsageError(`--format is table or ndjson, not ${format}`);
  }
  return format;
}

/** Rows as aligned columns under a header. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length))
  );
  return [header, ...rows].map((row) =>
    row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()
  );
}

const seq = (value: bigint | undefined) => value === undefined ? "-" : value.toString();

/** `streams --input URL`: every stream with its length, first and last seqNo, shards and groups. */
export async function streams(args: ParsedArgs): Promise<number> {
  // A server or file URL, not a stream URL: `file://./data.ss` names the file.
  const format = formatOf(args);
  const streamer = await SeaStreamer.connect(required(args, "input"));
  const out = new LineWriter(stdout());
  try {
    if (args.flags.has("names")) {
      for (const stream of await streamer.listStreams()) await out.write(stream);
      await out.close();
      return 0;
    }
    const infos: [StreamKey, StreamInfo | undefined][] = [];
    for (const stream of await streamer.listStreams()) {
      infos.push([stream, await describeIfSupported(streamer, stream)]);
    }
    if (format === "ndjson") {
      for (const [stream, info] of infos) await out.write(JSON.stringify(jsonOf(stream, info)));
    } else if (infos.length > 0) {
      const rows = infos.map(([stream, info]) =>
        info === undefined ? [stream, "-", "-", "-", "-", "-"] : [
          stream,
          String(info.length),
          seq(info.firstSeqNo),
          seq(info.lastSeqNo),
          String(info.shards),
          info.groups.map((g) => `${g.name}(lag ${g.lag ?? "?"}, pending ${g.pending})`).join(
            " ",
          ) || "-",
        ]
      );
      for (const line of table(["STREAM", "LENGTH", "FIRST", "LAST", "SHARDS", "GROUPS"], rows)) {
        await out.write(line);
      }
    }
    await out.close();
  } finally {
    await streamer.disconnect();
  }
  return 0;
}

/** `stream` described, or undefined where the backend cannot describe streams. */
async function describeIfSupported(
  streamer: Streamer,
  stream: StreamKey,
): Promise<StreamInfo | undefined> {
  try {
    return await streamer.describeStream(stream);
  } catch (error) {
    if (error instanceof StreamError && error.code === "Unsupported") return undefined;
    throw error;
  }
}

/** The position `--reset` names. */
function parseReset(text: string): SeqPos | Date {
  if (text === "earliest" || text === "beginning") return "beginning";
  if (text === "latest" || text === "end") return "end";
  if (/^\d+$/.test(text)) return { at: BigInt(text) };
  const time = parseTime(text);
  if (time === undefined) {
    throw new UsageError(`--reset is earliest, latest, a seqNo or a UTC time, not ${text}`);
  }
  return time;
}

/** `groups --input URL [--group G --reset POS]`: the groups of the streams, or move one. */
export async function groups(args: ParsedArgs): Promise<number> {
  const format = formatOf(args);
  const url = required(args, "input");
  const { streamer: uri, streams } = parseStreamUrl(url);
  if (streams.length === 0) throw new UsageError(`${url} names no stream (e.g. ${uri}/orders)`);
  const reset = args.options.get("reset");
  const group = args.options.get("group");
  if ((reset === undefined) !== (group === undefined)) {
    throw new UsageError("--reset and --group go together");
  }
  const position = reset === undefined ? undefined : parseReset(reset);
  const streamer = await SeaStreamer.connect(uri);
  const out = new LineWriter(stdout());
  try {
    if (position !== undefined) {
      for (const stream of streams) await streamer.resetGroup(stream, group!, position);
    }
    const rows: string[][] = [];
    for (const stream of streams) {
      const info = await streamer.describeStream(stream);
      for (const g of info.groups) {
        if (group !== undefined && g.name !== group) continue;
        if (format === "ndjson") {
          await out.write(JSON.stringify({ stream, ...g }));
        } else {
          rows.push([stream, g.name, String(g.members), String(g.pending), String(g.lag ?? "?")]);
        }
      }
    }
    if (rows.length > 0) {
      for (const line of table(["STREAM", "GROUP", "MEMBERS", "PENDING", "LAG"], rows)) {
        await out.write(line);
      }
    }
    await out.close();
  } finally {
    await streamer.disconnect();
  }
  return 0;
}

function jsonOf(stream: StreamKey, info: StreamInfo | undefined): Record<string, unknown> {
  if (info === undefined) return { stream };
  return {
    stream,
    length: info.length,
    firstSeqNo: info.firstSeqNo?.toString(),
    lastSeqNo: info.lastSeqNo?.toString(),
    shards: info.shards,
    groups: info.groups,
  };
}
