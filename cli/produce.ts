/**
 * `seastreamer produce` and `seastreamer clock`.
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import { type ConnectOptions, parseStreamUrl, StreamError } from "../types.ts";
import { readFile, sleep, stdin } from "../runtime/mod.ts";
import { LineSplitter } from "../backends/stdio/lines.ts";
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

/** `produce --output URL [--file PATH] [PAYLOAD...]`: send payloads from args, a file or stdin lines. */
export async function produce(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const { streamer: uri, stream } = oneStream(required(args, "output"));
  const file = args.options.get("file");
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
      producer.send(payload);
      // Let batches go out (and backpressure act) every so often.
      if (++count % 1000 === 0) await producer.flush();
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
