/**
 * A processor killed with SIGKILL mid-run and restarted with the same group
 * produces every output at least once (at-least-once end to end), on each
 * persistent backend, in separate OS processes.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SeaStreamer } from "../mod.ts";
import { makeTempDir, remove } from "../runtime/mod.ts";
import { readAll, spawnScript } from "./support/spawn.ts";
import { take, texts, uniqueName } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";
import { REDIS_URL, requireRedis } from "./support/redis.ts";

const dir = await makeTempDir("seastreamer-kill-");
after(() => remove(dir));

interface Target {
  name: string;
  /** The streamer URI that holds the streams. */
  uri: () => string;
  /** Fails clearly if the server is not there. */
  ready?: () => Promise<void>;
}

const targets: Target[] = [
  { name: "file", uri: () => `file://${dir}/${uniqueName("kill")}.ss` },
  { name: "kafka", uri: () => KAFKA_URL, ready: requireKafka },
  { name: "redis", uri: () => REDIS_URL, ready: requireRedis },
];

async function runUntilHandled(args: string[], atLeast: number) {
  const child = spawnScript("../processor/testdata/worker", import.meta.url, args, {
    stdin: "ignore",
  });
  const reader = child.stdout!.getReader();
  let output = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    output += new TextDecoder().decode(value);
    const counts = [...output.matchAll(/handled (\d+)/g)].map((m) => Number(m[1]));
    if (counts.length > 0 && counts[counts.length - 1] >= atLeast) {
      child.kill("SIGKILL");
      break;
    }
  }
  reader.releaseLock();
  const status = await child.status;
  return { status, output, stderr: await readAll(child.stderr) };
}

describe("processor: killed mid-run, restarted", () => {
  for (const target of targets) {
    it(`${target.name}: every output at least once after SIGKILL and restart`, async () => {
      await target.ready?.();
      const uri = target.uri();
      const input = uniqueName("in");
      const output = uniqueName("out");
      const group = uniqueName("g");
      const inputs = Array.from({ length: 300 }, (_, i) => `m${i}`);
      const streamer = await SeaStreamer.connect(uri, { file: { createIfNotExists: true } });
      try {
        const producer = await streamer.createProducer(input);
        for (const payload of inputs) producer.send(payload);
        await producer.flush();
        const args = [`${uri}/${input}`, `${uri}/${output}`, group];

        const killed = await runUntilHandled(args, 100);
        assert.equal(killed.status.signal, "SIGKILL", killed.stderr);

        const restarted = spawnScript("../processor/testdata/worker", import.meta.url, args, {
          stdin: "ignore",
        });
        const [stdout, stderr] = await Promise.all([
          readAll(restarted.stdout),
          readAll(restarted.stderr),
        ]);
        assert.equal((await restarted.status).code, 0, stderr);
        assert.match(stdout, /done \d+/);

        const consumer = await streamer.createConsumer([output], { autoStreamReset: "earliest" });
        const seen = new Set<string>();
        while (seen.size < inputs.length) {
          for (const text of texts(await take(consumer, 1, 30_000))) seen.add(text);
        }
        for (const payload of inputs) assert.ok(seen.has(`out:${payload}`), `lost ${payload}`);
        const restartedHandled = Number(/done (\d+)/.exec(stdout)![1]);
        assert.ok(restartedHandled < inputs.length, "the restart resumed, it did not start over");
      } finally {
        await streamer.disconnect();
      }
    });
  }
});
