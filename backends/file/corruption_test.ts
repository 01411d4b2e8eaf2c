/** Bad bytes in a file: reported with their offset and size, costing the damaged message only. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Consumer, isStreamError, type Message, SeaStreamer } from "../../mod.ts";
import { makeTempDir, openFile, readFile, remove, sleep, stat } from "../../runtime/mod.ts";
import { rejectsWith, take, texts } from "../../tests/support/helpers.ts";
import { Damage, FormatError } from "./format.ts";
import { AT_END, MessageReader } from "./reader.ts";

const dir = await makeTempDir("seastreamer-corrupt-");
after(() => remove(dir));
let files = 0;
const INTERVAL = 1024;

/** A file of `count` messages `m0`, `m1`... on stream `s`, 1 KiB beacons; its path and the messages' offsets. */
async function writeFile(
  count: number,
): Promise<{ path: string; offsets: number[]; ends: number[] }> {
  const path = `${dir}/c${++files}.ss`;
  const streamer = await SeaStreamer.connect(`file://${path}`, {
    file: { createIfNotExists: true, beaconInterval: INTERVAL },
  });
  const producer = await streamer.createProducer("s");
  for (let i = 0; i < count; i++) producer.send(`m${i}-${"x".repeat(20)}`);
  await producer.end();
  await streamer.disconnect();
  const reader = (await MessageReader.open(path))!;
  const offsets: number[] = [];
  const ends: number[] = [];
  for (let result = await reader.read(); result !== AT_END; result = await reader.read()) {
    if (result instanceof FormatError) throw result;
    offsets.push(result.offset);
    ends.push(result.end);
  }
  await reader.close();
  return { path, offsets, ends };
}

async function poke(path: string, offset: number, bytes: number[]): Promise<void> {
  const file = await openFile(path, { write: true });
  await file.write(Uint8Array.from(bytes), offset);
  await file.close();
}

async function cut(path: string, length: number): Promise<void> {
  const file = await openFile(path, { write: true });
  await file.truncate(length);
  await file.close();
}

/** Read a consumer until it ends: the messages and the errors, in order. */
async function drain(consumer: Consumer): Promise<(Message | FormatError)[]> {
  const seen: (Message | FormatError)[] = [];
  for (;;) {
    try {
      seen.push(await consumer.next());
    } catch (error) {
      if (isStreamError(error, "Closed")) return seen;
      assert.ok(error instanceof FormatError, `unexpected ${error}`);
      seen.push(error);
    }
  }
}

const replay = { autoStreamReset: "earliest", file: { live: false } } as const;
const name = (item: Message | FormatError) =>
  item instanceof FormatError ? `error@${item.offset}` : item.payload.text().split("-")[0];

describe("file backend: corruption", () => {
  it("a bad checksum: next() rejects with Corrupt (offset, bytes skipped), then reading goes on at the next message", async () => {
    const { path, offsets } = await writeFile(100);
    const bad = 10;
    await poke(path, offsets[bad] + 40, [0x21]); // a payload byte
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const seen = await drain(await streamer.createConsumer(["s"], replay));
    const error = seen.find((item) => item instanceof FormatError) as FormatError;
    assert.ok(error instanceof Damage, "no damage reported");
    assert.equal(error.offset, offsets[bad]);
    assert.equal(error.code, "Corrupt");
    assert.equal(error.skipped, offsets[bad + 1] - offsets[bad]);
    assert.match(error.message, /checksum mismatch.* at byte offset \d+; \d+ bytes skipped$/);
    assert.deepEqual(seen.map(name), [
      ...Array.from({ length: bad }, (_, i) => `m${i}`),
      `error@${offsets[bad]}`,
      ...Array.from({ length: 100 - bad - 1 }, (_, i) => `m${i + bad + 1}`),
    ]);
    await streamer.disconnect();
  });

  for (const what of ["a flipped payload byte", "a damaged length"] as const) {
    it(`${what} in 20,000 messages of 200 B loses exactly that message`, async () => {
      const path = `${dir}/big-${what.length}.ss`;
      const streamer = await SeaStreamer.connect(`file://${path}`, {
        file: { createIfNotExists: true },
      });
      const producer = await streamer.createProducer("s");
      for (let i = 0; i < 20_000; i++) producer.send(`${i}`.padEnd(200, "."));
      await producer.end();
      // Message 12,345 (past the first beacon): key length 1, so the length is at 26, the payload at 30.
      const target = (await findOffset(path, 12_345))!;
      if (what === "a damaged length") await poke(path, target + 1 + 1 + 24 + 2, [0x7f]);
      else await poke(path, target + 30 + 100, [0x00]);
      const consumer = await streamer.createConsumer(["s"], replay);
      const seen = await drain(consumer);
      const errors = seen.filter((item) => item instanceof FormatError);
      assert.equal(errors.length, 1, `errors: ${errors.join(", ")}`);
      assert.ok(errors[0] instanceof Damage && errors[0].offset === target, `${errors[0]}`);
      const numbers = seen.filter((item) => !(item instanceof FormatError)).map((m) =>
        Number((m as Message).payload.text().split(".")[0])
      );
      assert.equal(numbers.length, 19_999);
      assert.ok(!numbers.includes(12_345));
      assert.ok(numbers.every((n, i) => n === (i < 12_345 ? i : i + 1)));
      await streamer.disconnect();
    });
  }

  it("garbage over a beacon: skipped to the beacon after it", async () => {
    const { path, offsets } = await writeFile(200);
    await poke(path, 2 * INTERVAL - 3, Array.from({ length: 40 }, (_, i) => (i * 37) & 255));
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const seen = (await drain(await streamer.createConsumer(["s"], replay))).map(name);
    const errors = seen.filter((n) => n.startsWith("error@"));
    assert.ok(errors.length >= 1 && errors.length <= 2, `errors: ${errors}`);
    const after = offsets.findIndex((o) => o > 3 * INTERVAL);
    assert.equal(seen.at(-1), "m199");
    assert.ok(seen.includes(`m${after}`));
    assert.ok(seen.includes("m0"));
    await streamer.disconnect();
  });

  it("a torn tail (a crash mid-write): replay reports it with its offset, then ends", async () => {
    const { path, offsets } = await writeFile(30);
    await cut(path, offsets[29] + 10);
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const consumer = await streamer.createConsumer(["s"], replay);
    assert.equal((await take(consumer, 29)).length, 29);
    const error = await rejectsWith(consumer.next(), "Backend");
    assert.ok(error instanceof FormatError && error.offset === offsets[29]);
    assert.match(error.message, /cut short/);
    await rejectsWith(consumer.next(), "Closed");
    await streamer.disconnect();
  });

  it("appending to a torn file cuts the torn message; every earlier message stays readable", async () => {
    const { path, offsets } = await writeFile(30);
    await cut(path, offsets[29] + 10);
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const producer = await streamer.createProducer("s");
    const receipt = await producer.send("after-crash");
    assert.equal(receipt.seqNo, 30n, "m29 was lost with the crash: its seq is given again");
    const seen = (await drain(await streamer.createConsumer(["s"], replay))).map(name);
    assert.deepEqual(seen, [...Array.from({ length: 29 }, (_, i) => `m${i}`), "after"]);
    assert.equal((await stat(path))!.size, offsets[29] + (await sizeOfLast(path)));
    await streamer.disconnect();
  });

  it("appending after a damaged message keeps it and the good one after it", async () => {
    const { path, offsets } = await writeFile(30);
    await poke(path, offsets[28] + 30, [0x00, 0x01, 0x02]); // m28's payload: a bad checksum
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const producer = await streamer.createProducer("s");
    await producer.send("new-1");
    await producer.send("new-2");
    const seen = (await drain(await streamer.createConsumer(["s"], replay))).map(name);
    assert.deepEqual(seen, [
      ...Array.from({ length: 28 }, (_, i) => `m${i}`),
      `error@${offsets[28]}`,
      "m29",
      "new",
      "new",
    ]);
    await streamer.disconnect();
  });

  it("a live reader waiting at a torn message gets what a recovering writer appends there", async () => {
    const { path, offsets } = await writeFile(10);
    await cut(path, offsets[9] + 5);
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const live = await streamer.createConsumer(["s"], { autoStreamReset: "earliest" });
    assert.equal((await take(live, 9)).length, 9);
    const waiting = live.next();
    await sleep(100);
    const writer = await SeaStreamer.connect(`file://${path}`);
    await (await writer.createProducer("s")).send("recovered");
    assert.equal((await waiting).payload.text(), "recovered");
    await writer.disconnect();
    await streamer.disconnect();
  });

  it("the end of the file is found past bad bytes in its last interval", async () => {
    const { path, offsets } = await writeFile(60);
    await poke(path, offsets[59] - 60, [0xff, 0xff, 0xff, 0xff]);
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const latest = await streamer.createConsumer(["s"]);
    const producer = await streamer.createProducer("s");
    await producer.send("fresh");
    assert.deepEqual(texts(await take(latest, 1)), ["fresh"]);
    await streamer.disconnect();
  });
});

/** The size of the last message of the file at `path`. */
async function sizeOfLast(path: string): Promise<number> {
  const bytes = (await readFile(path))!;
  const reader = (await MessageReader.open(path))!;
  let last = 0;
  for (let result = await reader.read(); result !== AT_END; result = await reader.read()) {
    if (!(result instanceof FormatError)) last = result.end - result.offset;
  }
  await reader.close();
  assert.ok(bytes.length > 0);
  return last;
}

/** The offset of the `index`-th message of the file at `path`. */
async function findOffset(path: string, index: number): Promise<number | undefined> {
  const reader = (await MessageReader.open(path))!;
  try {
    let n = 0;
    for (let result = await reader.read(); result !== AT_END; result = await reader.read()) {
      if (result instanceof FormatError) throw result;
      if (n++ === index) return result.offset;
    }
    return undefined;
  } finally {
    await reader.close();
  }
}
