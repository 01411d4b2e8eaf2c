/** The file backend's own behaviour, beyond the conformance suite. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { relative } from "node:path";
import { type Message, SeaStreamer, type Streamer } from "../../mod.ts";
import {
  cwd,
  makeDir,
  makeTempDir,
  readFile,
  remove,
  sleep,
  stat,
  writeFile,
} from "../../runtime/mod.ts";
import {
  expectNothing,
  rejectsWith,
  take,
  texts,
  uniqueName,
} from "../../tests/support/helpers.ts";
import { fixture, fixturePath } from "../../tests/support/fixtures.ts";
import { filePath } from "./streamer.ts";
import { groupFilePath } from "./offsets.ts";
import { SEA_STREAMER_INTERNAL, SEA_STREAMER_WILDCARD } from "./format.ts";
import { MessageReader } from "./reader.ts";

const dir = await makeTempDir("seastreamer-file-");
after(() => remove(dir));
let files = 0;
const newPath = () => `${dir}/t${++files}.ss`;
const create = { file: { createIfNotExists: true } };

async function all(streamer: Streamer, streams: string[]): Promise<Message[]> {
  const replay = await streamer.createConsumer(streams, {
    autoStreamReset: "earliest",
    file: { live: false },
  });
  const messages: Message[] = [];
  for await (const message of replay) messages.push(message);
  return messages;
}

describe("file backend: URLs and connecting", () => {
  it("file:///abs and file://./rel name paths as given", () => {
    assert.equal(filePath("file:///tmp/a b/c.ss"), "/tmp/a b/c.ss");
    assert.equal(filePath("file://./data.ss"), "./data.ss");
    assert.equal(filePath("file:///tmp/c.ss/"), "/tmp/c.ss");
    assert.throws(() => filePath("file://"), /names no file/);
  });

  it("a stream URL's streamer part connects; a relative path is from the working directory", async () => {
    const path = newPath();
    const rel = "./" + relative(cwd(), path);
    const streamer = await SeaStreamer.connect(`file://${rel}`, create);
    assert.equal(streamer.backend, "file");
    const producer = await streamer.createProducer("s");
    await producer.send("x");
    await streamer.disconnect();
    assert.ok((await stat(path))?.isFile);
  });

  it("a path with shell metacharacters is used as given: no shell, no expansion", async () => {
    const sub = `${dir}/shell-${Date.now()}`;
    await makeDir(sub);
    const path = `${sub}/a $(touch pwned); \`touch pwned2\` *.ss`;
    const writer = await SeaStreamer.connect(`file://${path}`, create);
    await (await writer.createProducer("s")).send("x");
    await writer.disconnect();
    assert.ok((await stat(path))?.isFile, "the file has exactly the name given");
    for (const name of ["pwned", "pwned2"]) {
      assert.equal(await stat(`${sub}/${name}`), undefined, `${name} was created`);
      assert.equal(await stat(name), undefined, `${name} was created in the working directory`);
    }
  });

  it("a missing file is StreamKeyNotFound; createOnly fails on an existing file", async () => {
    const path = newPath();
    await rejectsWith(SeaStreamer.connect(`file://${path}`), "StreamKeyNotFound");
    const first = await SeaStreamer.connect(`file://${path}`, { file: { createOnly: true } });
    await first.disconnect();
    await rejectsWith(
      SeaStreamer.connect(`file://${path}`, { file: { createOnly: true } }),
      "Connect",
    );
    await rejectsWith(
      SeaStreamer.connect(`file://${newPath()}`, {
        file: { createIfNotExists: true, beaconInterval: 1000 },
      }),
      "Unsupported",
    );
  });

  it("a real-time consumer takes no group", async () => {
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
    await rejectsWith(streamer.createConsumer(["s"], { group: "g" }), "ConsumerGroupIsSet");
    await streamer.disconnect();
  });
});

describe("file backend: producers", () => {
  it("numbers each stream from 1, as SeaStreamer does; producers share one writer", async () => {
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
    const a = await streamer.createProducer("a");
    const b = await streamer.createProducer("b");
    const other = await SeaStreamer.connect(streamer.uri);
    const a2 = await other.createProducer("a");
    const receipts = await Promise.all([a.send("1"), b.send("1"), a2.send("2"), a.send("3")]);
    // One writer numbers "a" for both producers (each producer's sends of a tick go together).
    assert.deepEqual(receipts.map((r) => `${r.streamKey}${r.seqNo}`).sort(), [
      "a1",
      "a2",
      "a3",
      "b1",
    ]);
    assert.ok(receipts[0].seqNo < receipts[3].seqNo);
    await other.disconnect();
    await streamer.disconnect();
  });

  it("text payloads are stored as UTF-8, byte for byte, short and long, in one batch", async () => {
    const texts = [
      "plain",
      "café €5 😀", // two-, three- and four-byte characters
      "\ud800 lone", // a lone surrogate is U+FFFD, as TextEncoder writes it
      "é".repeat(21_845), // on the edge of the writer's scratch buffer (3 bytes per unit)
      "😀".repeat(40_000), // past it: a buffer of its own
      "",
      "last",
    ];
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
    const producer = await streamer.createProducer("s");
    await producer.sendBatch(texts);
    const messages = await all(streamer, ["s"]);
    const utf8 = new TextEncoder();
    assert.deepEqual(messages.map((m) => m.payload.bytes()), texts.map((t) => utf8.encode(t)));
    await streamer.disconnect();
  });

  it("appending continues every stream's numbering (found with the beacons)", async () => {
    const url = `file://${newPath()}`;
    const options = { file: { createIfNotExists: true, beaconInterval: 1024 } };
    for (let round = 0; round < 3; round++) {
      const streamer = await SeaStreamer.connect(url, options);
      const producer = await streamer.createProducer();
      for (let i = 0; i < 50; i++) {
        for (const stream of ["x", "y", "z"]) producer.sendTo(stream, `${stream}-${round}-${i}`);
      }
      const last = await producer.sendTo("y", "last");
      assert.equal(last.seqNo, BigInt((round + 1) * 51));
      await streamer.disconnect();
    }
    const reader = await SeaStreamer.connect(url);
    const messages = await all(reader, ["x", "y", "z"]);
    assert.equal(messages.length, 3 * 3 * 50 + 3);
    for (const stream of ["x", "y", "z"]) {
      const seqs = messages.filter((m) => m.header.streamKey === stream).map((m) => m.header.seqNo);
      assert.deepEqual(seqs, seqs.map((_, i) => BigInt(i + 1)));
    }
    await reader.disconnect();
  });

  it("endWithEos ends live consumers; appending later removes the end-of-stream message", async () => {
    const url = `file://${newPath()}`;
    const writer = await SeaStreamer.connect(url, {
      file: { createIfNotExists: true, endWithEos: true },
    });
    const watcher = await SeaStreamer.connect(url);
    const live = await watcher.createConsumer(["s"], { autoStreamReset: "earliest" });
    const producer = await writer.createProducer("s");
    await producer.send("one");
    await producer.send("two");
    await writer.disconnect();
    const seen: string[] = [];
    for await (const message of live) seen.push(message.payload.text());
    assert.deepEqual(seen, ["one", "two"]);
    const eos = await all(watcher, [SEA_STREAMER_INTERNAL]);
    assert.equal(eos.length, 1);
    assert.equal(eos[0].payload.text(), "EOS");

    const again = await SeaStreamer.connect(url);
    const more = await again.createProducer("s");
    assert.equal((await more.send("three")).seqNo, 3n);
    await again.disconnect();
    assert.deepEqual(texts(await all(watcher, ["s"])), ["one", "two", "three"]);
    assert.equal((await all(watcher, [SEA_STREAMER_INTERNAL])).length, 0);
    await watcher.disconnect();
  });

  it("sends that would pass the file size limit fail; the file stays readable", async () => {
    const url = `file://${newPath()}`;
    const streamer = await SeaStreamer.connect(url, {
      file: { createIfNotExists: true, beaconInterval: 1024, fileSizeLimit: 8192 },
    });
    const producer = await streamer.createProducer("s");
    const payload = "p".repeat(100);
    const sent = Array.from({ length: 100 }, () => producer.send(payload));
    const results = await Promise.allSettled(sent);
    const ok = results.filter((r) => r.status === "fulfilled").length;
    assert.ok(ok > 20 && ok < 100, `${ok} fitted`);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.match(String(failed.reason), /size limit/);
    await rejectsWith(producer.flush(), "Backend");
    assert.ok((await stat(filePath(url)))!.size <= 8192);
    assert.equal((await all(streamer, ["s"])).length, ok);
    await streamer.disconnect();
  });

  it("appends to SeaStreamer's files: seq goes on, the end-of-stream message goes", async () => {
    const path = newPath();
    await writeFile(path, await fixture("quicksort.ss"));
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const producer = await streamer.createProducer("quicksort");
    assert.equal((await producer.send("mine")).seqNo, 43n);
    const messages = await all(streamer, ["quicksort"]);
    assert.equal(messages.length, 43);
    assert.equal(messages[42].payload.text(), "mine");
    await streamer.disconnect();

    const withEos = newPath();
    await writeFile(withEos, await fixture("consumer.ss"));
    const other = await SeaStreamer.connect(`file://${withEos}`);
    await (await other.createProducer("hello")).send("after the end");
    const hello = await all(other, ["hello"]);
    assert.equal(hello.length, 101);
    assert.deepEqual([hello[100].header.seqNo, hello[100].header.shardId], [1n, 0]);
    assert.equal((await all(other, [SEA_STREAMER_INTERNAL])).length, 0);
    await other.disconnect();
  });
});

describe("file backend: consumers", () => {
  it("reads SeaStreamer's files: a replay of consumer.ss ends at its end-of-stream message", async () => {
    const streamer = await SeaStreamer.connect(`file://${fixturePath("consumer.ss")}`);
    const live = await streamer.createConsumer(["hello"], { autoStreamReset: "earliest" });
    const messages: Message[] = [];
    for await (const message of live) messages.push(message);
    assert.equal(messages.length, 100);
    assert.deepEqual(texts(messages.slice(0, 2)), ["hello-0", "hello-1"]);
    await rejectsWith(live.next(), "Closed");
    await streamer.disconnect();
  });

  it("live: false replays what the file holds, then next() rejects Closed", async () => {
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
    const producer = await streamer.createProducer("s");
    await Promise.all(["a", "b"].map((p) => producer.send(p)));
    const replay = await streamer.createConsumer(["s"], {
      autoStreamReset: "earliest",
      file: { live: false },
    });
    assert.deepEqual(texts(await take(replay, 2)), ["a", "b"]);
    await rejectsWith(replay.next(), "Closed");
    const latest = await streamer.createConsumer(["s"], { file: { live: false } });
    await rejectsWith(latest.next(), "Closed");
    await streamer.disconnect();
  });

  it("the wildcard takes every stream (but SeaStreamer's internal one)", async () => {
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
    const everything = await streamer.createConsumer([SEA_STREAMER_WILDCARD], {
      autoStreamReset: "earliest",
    });
    const producer = await streamer.createProducer();
    await producer.sendTo("a", "1");
    await producer.sendTo("b", "2");
    await producer.sendTo(SEA_STREAMER_INTERNAL, "hidden");
    await producer.sendTo("c", "3");
    const messages = await take(everything, 3);
    assert.deepEqual(messages.map((m) => `${m.header.streamKey}:${m.payload.text()}`), [
      "a:1",
      "b:2",
      "c:3",
    ]);
    await expectNothing(everything);
    await streamer.disconnect();
  });

  it("a live consumer ends when the file is removed", async () => {
    const path = newPath();
    const streamer = await SeaStreamer.connect(`file://${path}`, create);
    const live = await streamer.createConsumer(["s"]);
    const waiting = live.next();
    await sleep(50);
    await remove(path);
    await rejectsWith(waiting, "Closed");
    await streamer.disconnect();
  });

  it("rewind and seek across several streams, with 1 KiB beacons", async () => {
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, {
      file: { createIfNotExists: true, beaconInterval: 1024 },
    });
    const producer = await streamer.createProducer();
    for (let i = 0; i < 300; i++) {
      producer.sendTo("a", `a${i + 1}`);
      if (i % 3 === 0) producer.sendTo("b", `b${i / 3 + 1}`);
    }
    await producer.flush();
    await sleep(20);
    const cut = new Date();
    await sleep(20);
    await producer.sendTo("b", "late");
    const consumer = await streamer.createConsumer(["a", "b"], { autoStreamReset: "earliest" });
    await consumer.rewind({ at: 250n });
    const next = await take(consumer, 3);
    // Each stream starts at its first message with seq >= 250: "a" only (b has 101).
    assert.deepEqual(texts(next), ["a250", "a251", "a252"]);
    await consumer.rewind({ at: 100n });
    const both = await take(consumer, 203); // a100..a300, b100 and "late" (b101)
    assert.deepEqual(texts(both.filter((m) => m.header.streamKey === "b")), ["b100", "late"]);
    assert.equal(both[0].payload.text(), "a100");
    await expectNothing(consumer, 100);
    await consumer.seek(cut);
    assert.deepEqual(texts(await take(consumer, 1)), ["late"]);
    await streamer.disconnect();
  });
});

describe("file backend: groups", () => {
  it("resumable: the group's position is kept in a file beside the stream file", async () => {
    const path = newPath();
    const streamer = await SeaStreamer.connect(`file://${path}`, create);
    const producer = await streamer.createProducer("s");
    await Promise.all(["a", "b", "c"].map((p) => producer.send(p)));
    const group = "billing/é";
    const consumer = await streamer.createConsumer(["s"], {
      mode: "resumable",
      group,
      autoStreamReset: "earliest",
      autoCommit: false,
    });
    const [first] = await take(consumer, 1);
    await consumer.commit(first);
    const saved = JSON.parse(new TextDecoder().decode(await readFile(groupFilePath(path, group))));
    assert.deepEqual(saved.committed, { "s/0": "1" });
    assert.ok(groupFilePath(path, group).endsWith(".group-billing%2F%C3%A9.json"));
    await consumer.end();
    await streamer.disconnect();

    // The same name, a new file: the old group file is not this file's.
    await remove(path);
    const fresh = await SeaStreamer.connect(`file://${path}`, create);
    const p2 = await fresh.createProducer("s");
    await p2.send("new-a");
    const again = await fresh.createConsumer(["s"], {
      mode: "resumable",
      group,
      autoStreamReset: "earliest",
    });
    assert.deepEqual(texts(await take(again, 1)), ["new-a"]);
    await fresh.disconnect();
  });

  it("load-balanced: what a member took and did not commit goes to another when it ends", async () => {
    const streamer = await SeaStreamer.connect(`file://${newPath()}`, create);
    const options = {
      mode: "load-balanced",
      group: uniqueName("lb"),
      autoStreamReset: "earliest",
      prefetch: 5,
      autoCommit: false,
    } as const;
    const one = await streamer.createConsumer(["s"], options);
    const two = await streamer.createConsumer(["s"], options);
    const producer = await streamer.createProducer("s");
    const payloads = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await Promise.all(payloads.map((p) => producer.send(p)));
    const got = await take(one, 3);
    await one.commit(got[2]); // one keeps m-what-it-got; the rest of its prefetch goes back
    await one.end();
    const rest = await take(two, payloads.length - 3);
    assert.deepEqual([...texts(got), ...texts(rest)].sort(), [...payloads].sort());
    await streamer.disconnect();
  });
});

describe("file backend: seeking with beacons", () => {
  it("a seek in a large file reads a small part of it", async () => {
    const path = newPath();
    const streamer = await SeaStreamer.connect(`file://${path}`, {
      file: { createIfNotExists: true, beaconInterval: 4096 },
    });
    const producer = await streamer.createProducer("big");
    const payload = "x".repeat(200);
    for (let i = 0; i < 40_000; i++) {
      producer.send(payload);
      if (i % 5000 === 4999) await producer.flush();
    }
    await producer.end();
    await streamer.disconnect();
    const size = (await stat(path))!.size;
    assert.ok(size > 9_000_000);

    const { surveyStart, streamGroups, Subscription, moveTo } = await import("./position.ts");
    const reader = (await MessageReader.open(path))!;
    const start = await surveyStart(
      reader,
      streamGroups(new Subscription(["big"])),
      (marker) => marker.seqNo < 30_000n,
    );
    moveTo(reader, start);
    let message;
    do {
      message = await reader.read();
    } while (typeof message === "object" && "header" in message && message.header.seqNo < 30_000n);
    assert.ok(typeof message === "object" && "header" in message);
    assert.equal(message.header.seqNo, 30_000n);
    assert.ok(
      reader.bytesRead < 300_000, // a few beacons and the first chunks, whatever the file's size
      `read ${reader.bytesRead} bytes of ${size} to find seq 30000`,
    );
    await reader.close();
  });
});

describe("file backend: a file without a header yet", () => {
  it("a live consumer waits for a writer to write the header; a replay of it ends at once", async () => {
    const path = newPath();
    await writeFile(path, new Uint8Array(0)); // as SeaStreamer's connect leaves a new file
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const replay = await streamer.createConsumer(["s"], {
      autoStreamReset: "earliest",
      file: { live: false },
    });
    await rejectsWith(replay.next(), "Closed");
    await rejectsWith(streamer.createConsumer(["s"], { timeoutMs: 150 }), "Timeout");
    const waiting = streamer.createConsumer(["s"], { autoStreamReset: "earliest" });
    await sleep(50);
    const writer = await SeaStreamer.connect(`file://${path}`);
    await (await writer.createProducer("s")).send("first");
    const live = await waiting;
    assert.deepEqual(texts(await take(live, 1)), ["first"]);
    await writer.disconnect();
    await streamer.disconnect();
  });
});
