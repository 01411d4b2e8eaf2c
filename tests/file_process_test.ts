/**
 * The file backend across OS processes: a live tail of a file another process
 * writes, its end-of-stream, and a resumable consumer killed (SIGKILL) and
 * restarted without losing a message.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SeaStreamer } from "../mod.ts";
import { makeTempDir, remove, sleep, stat } from "../runtime/mod.ts";
import { take, texts } from "./support/helpers.ts";
import { readAll, spawnCli, spawnScript } from "./support/spawn.ts";

const dir = await makeTempDir("seastreamer-file-proc-");
after(() => remove(dir));

async function waitForFile(path: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await stat(path)) === undefined) {
    assert.ok(Date.now() < deadline, `${path} did not appear`);
    await sleep(20);
  }
}

/** The lines of a stream as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}

describe("file backend: two processes", () => {
  it("a live consumer follows a file that another process writes (the CLI's clock)", async () => {
    const path = `${dir}/clock.ss`;
    const clock = spawnCli(
      ["clock", "--stream", `file://${path}/ticks`, "--interval", "20ms", "--count", "40"],
      { stdin: "ignore", stdout: "ignore" },
    );
    const stderr = readAll(clock.stderr);
    await waitForFile(path);
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const consumer = await streamer.createConsumer(["ticks"], { autoStreamReset: "earliest" });
    const messages = await take(consumer, 40, 30_000);
    assert.deepEqual(texts(messages), Array.from({ length: 40 }, (_, i) => `tick ${i}`));
    assert.deepEqual(messages.map((m) => m.header.seqNo).slice(0, 3), [1n, 2n, 3n]);
    assert.equal((await clock.status).code, 0, await stderr);
    await streamer.disconnect();
  });

  it("the live consumer ends at the end-of-stream message the other process writes", async () => {
    const path = `${dir}/events.ss`;
    const writer = spawnScript("./testdata/file_writer", import.meta.url, [path, "25", "10"], {
      stdin: "ignore",
      stdout: "ignore",
    });
    const stderr = readAll(writer.stderr);
    await waitForFile(path);
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const consumer = await streamer.createConsumer(["events"], { autoStreamReset: "earliest" });
    const seen: string[] = [];
    for await (const message of consumer) seen.push(message.payload.text());
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `event ${i}`));
    assert.equal((await writer.status).code, 0, await stderr);
    await streamer.disconnect();
  });

  it("a resumable consumer killed with SIGKILL and restarted loses nothing", async () => {
    const path = `${dir}/jobs.ss`;
    const count = 300;
    const streamer = await SeaStreamer.connect(`file://${path}`, {
      file: { createIfNotExists: true, beaconInterval: 4096 },
    });
    const producer = await streamer.createProducer("jobs");
    for (let i = 0; i < count; i++) producer.send(`job-${i}`);
    await producer.end();
    const last = `job-${count - 1}`;
    const run = () =>
      spawnScript("./testdata/file_resume", import.meta.url, [path, "workers", last], {
        stdin: "ignore",
      });

    const first = run();
    const firstSeen: string[] = [];
    for await (const line of lines(first.stdout!)) {
      firstSeen.push(line);
      if (firstSeen.length === 120) first.kill("SIGKILL");
    }
    const killed = await first.status;
    assert.equal(killed.signal, "SIGKILL", `first consumer ended by itself: ${killed.code}`);

    const second = run();
    const secondSeen: string[] = [];
    for await (const line of lines(second.stdout!)) secondSeen.push(line);
    assert.equal((await second.status).code, 0, await readAll(second.stderr));

    const all = new Set([...firstSeen, ...secondSeen]);
    assert.equal(all.size, count, "a message was lost");
    assert.equal(secondSeen.at(-1), last);
    // It resumed (after what the first one committed), not from the beginning.
    assert.notEqual(secondSeen[0], "job-0");
    const resumedAt = Number(secondSeen[0].slice(4));
    assert.ok(resumedAt <= firstSeen.length, `skipped from ${firstSeen.length} to ${resumedAt}`);
    await streamer.disconnect();
  });
});
