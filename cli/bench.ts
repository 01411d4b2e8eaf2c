/**
 * `seastreamer bench`: throughput between any two URLs.
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import { isStreamError, parseStreamUrl } from "../types.ts";
import { stdout } from "../runtime/mod.ts";
import { encodeUtf8 } from "../core/message.ts";
import { integerOption, type ParsedArgs, required, UsageError } from "./args.ts";
import { Progress } from "./progress.ts";
import { WRITER_OPTIONS } from "./produce.ts";
import type { Shutdown } from "../runtime/mod.ts";

/**
 * `bench --output URL [--input URL] [--count N] [--size BYTES]`: send N
 * messages of BYTES to the output stream while a consumer of the input
 * (default: the output itself) receives them; print both rates.
 */
export async function bench(args: ParsedArgs, shutdown: Shutdown): Promise<number> {
  const outputUrl = required(args, "output");
  const inputUrl = args.options.get("input") ?? outputUrl;
  const count = integerOption(args, "count", 100_000);
  const size = integerOption(args, "size", 256);
  if (count === 0 || size === 0) throw new UsageError("--count and --size must be at least 1");
  const output = parseStreamUrl(outputUrl);
  const input = parseStreamUrl(inputUrl);
  if (output.streams.length !== 1) throw new UsageError("--output must name one stream");
  if (input.streams.length === 0) throw new UsageError("--input must name a stream");

  const writer = await SeaStreamer.connect(output.streamer, WRITER_OPTIONS);
  const reader = input.streamer === output.streamer
    ? writer
    : await SeaStreamer.connect(input.streamer);
  try {
    // Positioned at the end before the first send: it receives exactly what is sent now.
    const consumer = await reader.createConsumer(input.streams, { autoStreamReset: "latest" });
    const producer = await writer.createProducer(output.streams[0]);
    const payload = new Uint8Array(size).fill(0x61);
    const produced = new Progress("produced", false);
    const consumed = new Progress("consumed");
    const receiving = (async () => {
      while (consumed.count < count && !shutdown.signal.aborted) {
        try {
          consumed.add((await consumer.next(shutdown.signal)).payload.size);
        } catch (error) {
          if (shutdown.signal.aborted || isStreamError(error, "Closed")) return;
          throw error;
        }
      }
    })();
    for (let i = 0; i < count && !shutdown.signal.aborted; i++) {
      producer.send(payload);
      produced.add(size);
      if (i % 1000 === 999) await producer.flush();
    }
    await producer.flush();
    const producedLine = produced.line();
    await receiving;
    consumed.done();
    const out = stdout().getWriter();
    await out.write(encodeUtf8(`${producedLine}\n${consumed.line()}\n`));
    out.releaseLock();
    return consumed.count === count ? 0 : 1;
  } finally {
    if (reader !== writer) await reader.disconnect();
    await writer.disconnect();
  }
}
