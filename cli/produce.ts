/**
 * `seastreamer produce` and `seastreamer clock`.
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import { type ConnectOptions, parseStreamUrl, type SendOptions, StreamError } from "../types.ts";
import { readFile, sleep, stdin } from "../runtime/mod.ts";
import { LineSplitter } from "../backends/stdio/mod.ts";
import { decodeUtf8 } from "../core/message.ts";
import { integerOption, type ParsedArgs, parseDuration, required, UsageError } from "./args.ts";
import type { Shutdown } from "../runtime/mod.ts";

/** Connect options a writing command uses: a file is created if missing. */
export const WRITER_OPTIONS: ConnectOptions = { file: { createIfNotExists: true } };

function oneStream(url: string): { streamer: string; stream: string } {
  const { streamer, streams } = parseStreamUrl(url);
  if (streams.length !== 1) {
    throw new UsageError(`${url} must name exactly one stream (e.g. ${streamer}/orders)`);
  }
  return { streamer, stream: streams[0] };
}

async function* stdinLines(signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = stdin().pipeThrough(new LineSplitter()).getReader();
  const stop = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", stop, { once: true });
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      yield* value;
    }
  } finally {
    signal.removeEventListener("abort", stop);
    reader.releaseLock();
  }
}

async function* fileLines(path: string): AsyncGenerator<Uint8Array> {
  const data = await readFile(path);
  if (data === undefined) throw new StreamError("StreamKeyNotFound", `no such file: ${path}`);
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    yield data.subarray(start, end);
    start = end + 1;
  }
}

/** The key and headers `--key` and `--header NAME=VALUE` give every message. */
function sendOptions(args: ParsedArgs): SendOptions | undefined {
  const key = args.options.get("key");
  const pairs = args.lists.get("header") ?? [];
  if (key === undefined && pairs.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--header is NAME=VALUE, not ${JSON.stringify(pair)}`);
    headers[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { key, headers: pairs.length > 0 ? headers : undefined };
}

/** A message read from one ndjson line, as `consume --format ndjson` prints it. */
interface NdjsonRecord {
  payload?: unknown;
  payloadBase64?: unknown;
  key?: unknown;
  headers?: unknown;
}

function fromNdjson(
  line: Uint8Array,
  lineNo: number,
): { payload: string | Uint8Array; options?: SendOptions } {
  let record: NdjsonRecord;
  try {
    record = JSON.parse(decodeUtf8(line));
  } catch (error) {
    throw new StreamError(
      "Json",
      `line ${lineNo} is not a JSON object: ${(error as Error).message}`,
    );
  }
  if (typeof record !== "object" || record === null) {
    throw new StreamError("Json", `line ${lineNo} is not a JSON object`);
  }
  let payload: string | Uint8Array;
  if (typeof record.payload === "string") payload = record.payload;
  else if (typeof record.payloadBase64 === "string") {
    payload = Uint8Array.from(atob(record.payloadBase64), (c) => c.charCodeAt(0));
  } else {
    throw new StreamError("Json", `line ${lineNo} has no "payload" (or "payloadBase64") string`);
  }
  const options: SendOptions = {};
  if (typeof record.key === "string") options.key = record.key;
  if (record.headers !== undefined) {
    if (typeof record.headers !== "object" || record.headers === null) {
      throw new StreamError("Json", `line ${lineNo}: "headers" is an object of strings`);
    }
    options.headers = record.headers as Record<string, string>;
  }
  return {
    payload,
    options: options.key === undefined && options.headers === undefined ? undefined : options,
  };
}

/**
 * `produce --output URL [--file PATH] [--format raw|ndjson] [--key K] [--header N=V]... [PAYLOAD...]`:
 * send payloads from args, a file's lines or stdin's lines.
 */
export async function produce(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const { streamer: uri, stream } = oneStream(required(args, "output"));
  const file = args.options.get("file");
  const format = args.options.get("format") ?? "raw";
  if (format !== "raw" && format !== "ndjson") {
    throw new UsageError(`--format is raw or ndjson, not ${format}`);
  }
  const options = sendOptions(args);
  if (format === "ndjson" && options !== undefined) {
    throw new UsageError("--key and --header go with --format raw (ndjson lines carry their own)");
  }
  const streamer = await SeaStreamer.connect(uri, WRITER_OPTIONS);
  try {
    const producer = await streamer.createProducer(stream);
    let payloads: AsyncIterable<string | Uint8Array> | Iterable<string>;
    if (args.positional.length > 0) payloads = args.positional;
    else if (file !== undefined) payloads = fileLines(file);
    else payloads = stdinLines(shutdown.signal);
    let count = 0;
    for await (const payload of payloads) {
      if (shutdown.signal.aborted) break;
      count++;
      if (format === "ndjson") {
        const line = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
        if (line.length === 0) continue;
        const message = fromNdjson(line, count);
        producer.send(message.payload, message.options);
      } else {
        producer.send(payload, options);
      }
      // Let batches go out (and backpressure act) every so often.
      if (count % 1000 === 0) await producer.flush();
    }
    await producer.end();
    return 0;
  } finally {
    await streamer.disconnect();
  }
}

/** `clock --stream URL [--interval 1s] [--count N]`: send `tick N` every interval. */
export async function clock(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const { streamer: uri, streams } = parseStreamUrl(required(args, "stream"));
  if (streams.length === 0) throw new UsageError("--stream must name at least one stream");
  const interval = parseDuration(args.options.get("interval") ?? "1s");
  const count = integerOption(args, "count", Infinity);
  const streamer = await SeaStreamer.connect(uri, WRITER_OPTIONS);
  try {
    const producer = await streamer.createProducer();
    for (let tick = 0; tick < count && !shutdown.signal.aborted; tick++) {
      for (const stream of streams) producer.sendTo(stream, `tick ${tick}`);
      await producer.flush();
      if (tick + 1 < count) await sleep(interval, shutdown.signal).catch(() => {});
    }
    await producer.end();
    return 0;
  } finally {
    await streamer.disconnect();
  }
}
