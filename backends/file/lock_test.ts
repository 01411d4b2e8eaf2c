/** The file lock (writers, group files): one holder at a time; a lock left by a dead process or too old is broken. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createSymlink,
  hostname,
  makeTempDir,
  pid,
  readSymlink,
  remove,
  sleep,
  spawnProcess,
} from "../../runtime/mod.ts";
import { SeaStreamer } from "../../mod.ts";
import { FileLock, HOLD_MS, withLock } from "./lock.ts";

const withGroupLock = <T>(path: string, body: () => Promise<T>) =>
  withLock(path, body, { staleMs: 5_000, timeoutMs: 30_000 });
/** A lock target naming `pid` on this host, taken at `time`. */
const holder = (id: number, time = Date.now()) => `${id}:${time}:${hostname()}:test`;

const dir = await makeTempDir("seastreamer-group-lock-");
after(() => remove(dir));
let files = 0;
const newPath = () => `${dir}/g${++files}.json`;

describe("file backend: the lock", () => {
  it("one holder at a time: bodies do not overlap, and the lock is gone after", async () => {
    const path = newPath();
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 8 }, () =>
      withGroupLock(path, async () => {
        most = Math.max(most, ++inside);
        await sleep(5);
        inside--;
      })));
    assert.equal(most, 1);
    assert.equal(await readSymlink(`${path}.lock`), undefined);
  });

  it("a lock left by a process that died is broken at once", async () => {
    const path = newPath();
    const child = spawnProcess("true", [], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await child.status;
    assert.ok(await createSymlink(holder(child.pid), `${path}.lock`));
    const started = Date.now();
    assert.equal(await withGroupLock(path, () => Promise.resolve("got it")), "got it");
    assert.ok(Date.now() - started < 1_000);
  });

  it("a live holder's lock is waited for; an old one is broken", async () => {
    const path = newPath();
    assert.ok(await createSymlink(holder(pid()), `${path}.lock`));
    let got = false;
    const waiting = withGroupLock(path, () => Promise.resolve(got = true));
    await sleep(100);
    assert.equal(got, false, "took a lock that is held");
    await remove(`${path}.lock`);
    await waiting;
    assert.equal(got, true);

    assert.ok(await createSymlink(holder(pid(), Date.now() - 60_000), `${path}.lock`));
    assert.equal(await withGroupLock(path, () => Promise.resolve(1)), 1);
  });
});

describe("file backend: the lock between batches", () => {
  it("a waiter leaves a mark that holders see; it is gone once the waiter holds the lock", async () => {
    const path = newPath();
    assert.ok(await createSymlink(holder(pid()), `${path}.lock`));
    const waiter = new FileLock(path);
    const waiting = waiter.acquire(10_000);
    await sleep(100);
    assert.equal(await new FileLock(path).wanted(), true);
    await remove(`${path}.lock`);
    await waiting;
    assert.equal(await readSymlink(`${path}.lock.want`), undefined);
    assert.equal(await new FileLock(path).wanted(), false);
    await waiter.release();
  });

  it("a mark left by a waiter that died is not a waiter, and is removed", async () => {
    const path = newPath();
    const child = spawnProcess("true", [], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await child.status;
    assert.ok(await createSymlink(holder(child.pid), `${path}.lock.want`));
    assert.equal(await new FileLock(path).wanted(), false);
    assert.equal(await readSymlink(`${path}.lock.want`), undefined);
  });

  it("a writer sending without pause keeps the lock across batches, and hands it to a waiter", async () => {
    const path = `${dir}/busy.ss`;
    const streamer = await SeaStreamer.connect(`file://${path}`, {
      file: { createIfNotExists: true },
    });
    const producer = await streamer.createProducer("s");
    let stop = false;
    let sent = 0;
    const sending = (async () => {
      while (!stop) {
        for (let i = 0; i < 1000; i++) producer.send(`m-${sent++}`);
        await producer.flush();
      }
    })();
    while (sent < 5000) await sleep(5);
    // Held across batches: one holder's lock (its token) is seen before a whole batch and after
    // it. The lock is taken afresh every HOLD_MS, so a single look may fall in that gap; a
    // writer that took the lock per batch would never show the same token twice.
    let keptAcrossBatch = false;
    for (let look = 0; look < 200 && !keptAcrossBatch; look++) {
      const before = await readSymlink(`${path}.lock`);
      const sentBefore = sent;
      while (sent < sentBefore + 2000) await sleep(1);
      const after = await readSymlink(`${path}.lock`);
      keptAcrossBatch = before !== undefined && before === after;
    }
    assert.ok(keptAcrossBatch, "the writer took the lock afresh for every batch");
    // Five times, a waiter gets the lock in a few holds' time, the writer waiting meanwhile.
    const waits: number[] = [];
    for (let turn = 0; turn < 5; turn++) {
      const waiter = new FileLock(path);
      const started = Date.now();
      await waiter.acquire(10_000);
      waits.push(Date.now() - started);
      const sentWhenTaken = sent;
      await sleep(30);
      assert.ok(sent - sentWhenTaken <= 1000, "the writer wrote while the waiter held the lock");
      await waiter.release();
      await sleep(30);
    }
    const waited = waits.reduce((a, b) => a + b);
    assert.ok(
      waited < 1_500,
      `waited ${waits.join(", ")} ms for a writer holding ${HOLD_MS} ms at a time`,
    );
    stop = true;
    await sending;
    await streamer.disconnect();
    assert.equal(await readSymlink(`${path}.lock`), undefined, "the lock is given back at the end");
    const reread = await SeaStreamer.connect(`file://${path}`);
    const consumer = await reread.createConsumer(["s"], {
      autoStreamReset: "earliest",
      file: { live: false },
    });
    let read = 0;
    for await (const message of consumer) assert.equal(message.payload.text(), `m-${read++}`);
    assert.equal(read, sent);
    await reread.disconnect();
  });
});
