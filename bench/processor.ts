/**
 * The processor's overhead: the Router against a hand-written
 * consume-transform-produce loop over the same input, in the same run.
 *
 * `deno run -A bench/processor.ts`, `bun bench/processor.ts`, `node npm/bench/processor.js`
 *
 * @module
 */
import { SeaStreamer } from "../mod.ts";
import { Router } from "../processor/mod.ts";
import { compare, rate, report } from "./report.ts";

const COUNT = 200_000;

function input(): ReadableStream<Uint8Array> {
  const line = `[in] ${JSON.stringify({ id: 1, note: "x".repeat(200) })}\n`;
  const chunk = new TextEncoder().encode(line.repeat(1000));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === COUNT) return controller.close();
      controller.enqueue(chunk);
      sent += 1000;
    },
  });
}

function sink(): { stream: WritableStream<Uint8Array>; lines: () => number } {
  let lines = 0;
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    },
  });
  return { stream, lines: () => lines };
}

const transform = (text: string) => text.toUpperCase();

async function handLoop(): Promise<void> {
  const out = sink();
  const streamer = await SeaStreamer.connect("stdio://", {
    stdio: { input: input(), output: out.stream },
  });
  const consumer = await streamer.createConsumer(["in"]);
  const producer = await streamer.createProducer("out");
  let n = 0;
  for await (const message of consumer) {
    producer.send(transform(message.payload.text()));
    if (++n % 1000 === 0) await producer.flush();
  }
  await streamer.disconnect();
  if (out.lines() !== COUNT) throw new Error(`hand loop produced ${out.lines()}`);
}

async function router(concurrency: number): Promise<void> {
  const out = sink();
  await new Router().handle("stdio:///in", (message) => transform(message.payload.text()), {
    output: "stdio:///out",
    concurrency,
    connect: { stdio: { input: input(), output: out.stream } },
  }).run();
  if (out.lines() !== COUNT) throw new Error(`router produced ${out.lines()}`);
}

await handLoop();
await router(1);
const loop = await rate(COUNT, handLoop);
const routed = await rate(COUNT, () => router(1));
const routed16 = await rate(COUNT, () => router(16));
report([
  compare("processor (stdio, concurrency 1)", "hand-written loop", routed, loop),
  compare("processor (stdio, concurrency 16)", "hand-written loop", routed16, loop),
]);
