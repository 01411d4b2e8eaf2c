/**
 * The README's first command: a clock, a processor and a consumer on a stream
 * file, no server needed.
 *
 * - the clock sends `tick N` to the stream `tick` every 100 ms;
 * - the processor reads `tick`, and sends a JSON reading of each to `tock`;
 * - the consumer reads `tock` and prints it;
 * - at the end, the file is replayed from the beginning, and deleted.
 *
 * Run: `deno task demo` (or `deno run -A examples/demo.ts`, `bun examples/demo.ts`).
 * Give a path (`deno task demo ./demo.ss`) to keep the file; then read it with
 * `seastreamer decode ./demo.ss`.
 *
 * @module
 */
import { SeaStreamer } from "../mod.ts";
import { args, makeTempDir, remove, sleep } from "../runtime/mod.ts";

const TICKS = 20;
const given = args()[0];
const dir = given === undefined ? await makeTempDir("seastreamer-demo-") : undefined;
const path = given ?? `${dir}/demo.ss`;
const url = `file://${path}`;
const time = (date: Date) => date.toISOString().slice(11, 23);

console.log(`stream file: ${path}\n`);

// Three streamers on one file, as three programs would be (the file is created by the first).
const clockSide = await SeaStreamer.connect(url, { file: { createIfNotExists: true } });
const processorSide = await SeaStreamer.connect(url);
const consumerSide = await SeaStreamer.connect(url);

async function clock(): Promise<void> {
  const producer = await clockSide.createProducer("tick");
  for (let n = 1; n <= TICKS; n++) {
    const receipt = await producer.send(`tick ${n}`);
    console.log(`clock      sent     tick #${receipt.seqNo} at ${time(receipt.timestamp)}`);
    await sleep(100);
  }
  await producer.end();
}

async function processor(): Promise<void> {
  const ticks = await processorSide.createConsumer(["tick"], { autoStreamReset: "earliest" });
  const tocks = await processorSide.createProducer("tock");
  for await (const message of ticks) {
    const n = Number(message.payload.text().split(" ")[1]);
    const reading = { tick: n, square: n * n, even: n % 2 === 0 };
    await tocks.send(JSON.stringify(reading));
    console.log(`processor  tick #${message.header.seqNo} -> tock ${JSON.stringify(reading)}`);
    if (n === TICKS) break;
  }
  await ticks.end();
  await tocks.end();
}

async function consumer(): Promise<number> {
  const tocks = await consumerSide.createConsumer(["tock"], { autoStreamReset: "earliest" });
  let total = 0;
  for await (const message of tocks) {
    const reading = message.payload.json<{ tick: number; square: number }>();
    total += reading.square;
    console.log(
      `consumer   tock #${message.header.seqNo} (${time(message.header.timestamp)}): ` +
        `square ${reading.square}, running total ${total}`,
    );
    if (reading.tick === TICKS) break;
  }
  await tocks.end();
  return total;
}

const [, , total] = await Promise.all([clock(), processor(), consumer()]);
await Promise.all([clockSide.disconnect(), processorSide.disconnect(), consumerSide.disconnect()]);

// The file keeps everything: replay it from the beginning, then stop at its end.
const replaySide = await SeaStreamer.connect(url);
const replay = await replaySide.createConsumer(["tick", "tock"], {
  autoStreamReset: "earliest",
  file: { live: false },
});
const counts: Record<string, number> = {};
for await (const message of replay) {
  counts[message.header.streamKey] = (counts[message.header.streamKey] ?? 0) + 1;
}
await replaySide.disconnect();
console.log(
  `\nreplayed the file: ${counts.tick ?? 0} ticks and ${counts.tock ?? 0} tocks; ` +
    `sum of squares 1..${TICKS} = ${total}`,
);

if (dir !== undefined) await remove(dir);
else console.log(`kept ${path}: try \`seastreamer decode ${path}\``);
