/**
 * A Redis server restarted mid-run (its own redis-server on a free port, with
 * an fsync'd append-only file): the connection comes back by itself, queued
 * sends are not lost, and a resumable group loses no message.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Message, SeaStreamer } from "../mod.ts";
import { startRedis } from "../scripts/redis.ts";
import { sleep, timeout } from "../runtime/mod.ts";
import { uniqueName } from "./support/helpers.ts";

const server = await startRedis();
after(() => server.stop());

describe("redis: the server restarts mid-run", () => {
  it("sends queued meanwhile arrive; a resumable consumer misses nothing", async () => {
    const streamer = await SeaStreamer.connect(server.url);
    try {
      const stream = uniqueName("restart");
      const consumer = await streamer.createConsumer([stream], {
        mode: "resumable",
        group: uniqueName("g"),
        autoStreamReset: "earliest",
      });
      const producer = await streamer.createProducer(stream);
      const total = 3000;
      const seen = new Set<string>();
      const reading = (async () => {
        while (seen.size < total) {
          const message: Message = await consumer.next();
          seen.add(message.payload.text());
        }
      })();
      const receipts: Promise<unknown>[] = [];
      const before = server.pid;
      for (let i = 0; i < total; i++) {
        receipts.push(producer.send(`r${i}`));
        if (i % 100 === 99) await sleep(5);
        // Down for a while: sends 1000..1999 are made while nothing answers.
        if (i === 1000) await server.halt();
        if (i === 2000) await server.restart();
      }
      assert.notEqual(server.pid, before, "the server was not restarted");
      await timeout(producer.flush(), 30_000, "flushing after the restart");
      assert.equal((await Promise.all(receipts)).length, total);
      await timeout(reading, 30_000, `reading after the restart (got ${seen.size})`);
      for (let i = 0; i < total; i++) assert.ok(seen.has(`r${i}`), `lost r${i}`);
    } finally {
      await streamer.disconnect();
    }
  });

  it("while the server is down, timeoutMs bounds sends and consumer creation", async () => {
    const streamer = await SeaStreamer.connect(server.url);
    await server.halt();
    try {
      const producer = await streamer.createProducer(uniqueName("down"), { timeoutMs: 300 });
      await assert.rejects(
        producer.send("nobody hears"),
        (error: Error & { code?: string }) => error.code === "Timeout",
      );
      await assert.rejects(
        producer.flush(),
        (error: Error & { code?: string }) => error.code === "Timeout",
      );
      const started = Date.now();
      // Its own connection is refused (Connect), or its commands wait (Timeout).
      await assert.rejects(
        streamer.createConsumer([uniqueName("down")], { timeoutMs: 500 }),
        (error: Error & { code?: string }) => error.code === "Connect" || error.code === "Timeout",
      );
      assert.ok(Date.now() - started < 3000);
    } finally {
      await server.restart();
      await streamer.disconnect();
    }
  });

  it("a server that is down when connecting is StreamError(Connect) within the timeout", async () => {
    await server.halt();
    try {
      const started = Date.now();
      await assert.rejects(
        SeaStreamer.connect(server.url, { timeoutMs: 1500 }),
        (error: Error & { code?: string }) => error.code === "Connect",
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      await server.restart();
    }
  });
});
