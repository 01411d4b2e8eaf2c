import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CoreConsumer } from "./consumer.ts";
import { type CommitResults, type ConsumerDriver, Fault, type Fetched } from "./driver.ts";
import { consumerSettings } from "./options.ts";
import { StreamMessage } from "./message.ts";
import {
  type ConsumerOptions,
  isStreamError,
  type Message,
  type MessageHeader,
  type SeqPos,
  type ShardRef,
  StreamError,
} from "../types.ts";

const capabilities = {
  history: true,
  resumable: true,
  loadBalanced: true,
  realTimeGroups: false,
  rewind: true,
  rewindShard: true,
  seek: false,
  binary: true,
  keysAndHeaders: false,
  tls: false,
};

function message(seqNo: number, shardId = 0): Message {
  return new StreamMessage(
    { streamKey: "s", shardId, seqNo: BigInt(seqNo), timestamp: new Date(0) },
    new TextEncoder().encode(`m${seqNo}`),
  );
}

/**
 * A driver serving numbered messages from memory: a unit test of core's
 * buffer, pump, moves and commits, not of a backend.
 */
class ScriptedDriver implements ConsumerDriver {
  readonly fetches: number[] = [];
  readonly commits: bigint[][] = [];
  readonly rewinds: SeqPos[] = [];
  next = 0;
  /** Messages available; fetch waits (until aborted) beyond it. */
  available = Infinity;
  faultAt = -1;
  fetchFailure: unknown;
  closed = false;
  #waiting: (() => void) | undefined;

  fetch(max: number, signal: AbortSignal): Promise<Fetched> {
    this.fetches.push(max);
    if (this.fetchFailure !== undefined) return Promise.reject(this.fetchFailure);
    if (this.next === this.faultAt) {
      this.next++;
      return Promise.resolve(new Fault(new StreamError("Corrupt", `bad bytes at ${this.faultAt}`)));
    }
    const end = Math.min(
      this.next + max,
      this.available,
      this.faultAt > this.next ? this.faultAt : Infinity,
    );
    if (end <= this.next) {
      return new Promise((resolve, reject) => {
        this.#waiting = () => resolve(this.fetch(max, signal));
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    const batch: Message[] = [];
    while (this.next < end) batch.push(message(this.next++));
    return Promise.resolve(batch);
  }

  release(available: number): void {
    this.available = available;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  commit(positions: readonly MessageHeader[]): Promise<CommitResults> {
    this.commits.push(positions.map((p) => p.seqNo));
    return Promise.resolve();
  }

  rewind(position: SeqPos): Promise<void> {
    this.rewinds.push(position);
    this.next = 0;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function consumer(options: ConsumerOptions, driver = new ScriptedDriver()) {
  return { driver, consumer: consumerOver(options, driver) };
}

/** A core consumer reading `s` through `driver`. */
function consumerOver(options: ConsumerOptions, driver: ConsumerDriver): CoreConsumer {
  const settings = consumerSettings(["s"], options, { backend: "file", capabilities });
  const made = new CoreConsumer("test", settings, () => {});
  made.attach(driver);
  return made;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/**
 * Two shards, served in turn: what was fetched, then a fetch that completes
 * just as it is cut short (its messages handed over all the same), then waits.
 * A move of shard 1 serves shard 1 from `seqNo` 100.
 */
class TwoShardDriver implements ConsumerDriver {
  readonly moves: [SeqPos, ShardRef][] = [];
  #fetched = 0;
  #moved = false;

  fetch(_max: number, signal: AbortSignal): Promise<Fetched> {
    const fetch = this.#fetched++;
    if (fetch === 0) return Promise.resolve([0, 1, 2, 3].map((i) => message(i, i % 2)));
    if (fetch === 1) {
      return new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve([message(4, 0), message(5, 1)]), {
          once: true,
        })
      );
    }
    if (this.#moved) {
      this.#moved = false;
      return Promise.resolve([message(100, 1), message(101, 1)]);
    }
    return new Promise((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), { once: true })
    );
  }

  rewindShard(position: SeqPos, shard: ShardRef): Promise<void> {
    this.moves.push([position, shard]);
    this.#moved = true;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe("CoreConsumer", () => {
  it("rewind of one shard drops that shard's buffered messages only, a fetch cut short included", async () => {
    const driver = new TwoShardDriver();
    const settings = consumerSettings(["s"], { prefetch: 100 }, { backend: "file", capabilities });
    const c = new CoreConsumer("test", settings, () => {});
    c.attach(driver);
    const first = await c.next();
    assert.deepEqual([first.header.shardId, first.header.seqNo], [0, 0n]);
    await tick(); // the pump now waits in its second fetch
    await c.rewind({ at: 100n }, { stream: "s", shardId: 1 });
    assert.deepEqual(driver.moves, [[{ at: 100n }, { stream: "s", shardId: 1 }]]);
    const seen: string[] = [];
    while (seen.length < 4) {
      for (const m of await c.nextBatch()) seen.push(`${m.header.shardId}:${m.header.seqNo}`);
    }
    assert.deepEqual(seen, ["0:2", "0:4", "1:100", "1:101"]);
    await assert.rejects(
      c.rewind("beginning", { stream: "other", shardId: 0 }),
      (e: unknown) => isStreamError(e, "StreamKeyNotFound"),
    );
    await c.end();
  });

  it("rewind of one shard is Unsupported where the driver cannot move one alone", async () => {
    const { consumer: c } = consumer({});
    await assert.rejects(
      c.rewind("beginning", { stream: "s", shardId: 0 }),
      (e: unknown) => isStreamError(e, "Unsupported"),
    );
    await c.end();
  });

  it("fills its buffer in batches, refilling below half the prefetch", async () => {
    const { driver, consumer: c } = consumer({ prefetch: 10 });
    for (let i = 0; i < 25; i++) assert.equal((await c.next()).header.seqNo, BigInt(i));
    await tick();
    assert.equal(driver.fetches[0], 10);
    assert.ok(driver.fetches.slice(1).every((max) => max >= 5 && max <= 10), `${driver.fetches}`);
    assert.ok(driver.next <= 25 + 10, "never more than the prefetch ahead");
    await c.end();
    assert.ok(driver.closed);
  });

  it("nextBatch: 1..max, waiting only for the first; the fetched array itself where it fits", async () => {
    const driver = new ScriptedDriver();
    driver.available = 3;
    const { consumer: c } = consumer({ prefetch: 100 }, driver);
    const first = await c.nextBatch({ max: 2 });
    assert.deepEqual(first.map((m) => m.header.seqNo), [0n, 1n]);
    assert.deepEqual((await c.nextBatch({ max: 50 })).map((m) => m.header.seqNo), [2n]);
    const waiting = c.nextBatch({ max: 50 });
    driver.release(6);
    assert.deepEqual((await waiting).map((m) => m.header.seqNo), [3n, 4n, 5n]);
    await c.end();
  });

  it("a fault rejects one call in its place; the next call goes on after it", async () => {
    const driver = new ScriptedDriver();
    driver.faultAt = 3;
    const { consumer: c } = consumer({ prefetch: 100 }, driver);
    assert.deepEqual((await c.nextBatch()).map((m) => m.header.seqNo), [0n, 1n, 2n]);
    await assert.rejects(c.nextBatch(), (e: unknown) => isStreamError(e, "Corrupt"));
    assert.equal((await c.next()).header.seqNo, 4n);
    await c.end();
  });

  it("autoCommit: asking for the next message commits the one before; end commits the last", async () => {
    const { driver, consumer: c } = consumer({ mode: "resumable", group: "g" });
    await c.next();
    await c.next();
    const third = await c.next();
    assert.equal(third.header.seqNo, 2n);
    await c.end();
    assert.deepEqual(driver.commits.flat().at(-1), 2n);
  });

  it("autoCommit with a driver fetching one shard per array: each shard's last is committed, few headers read", async () => {
    let headerReads = 0;
    const counted = (seqNo: number, shardId: number): Message => {
      const inner = message(seqNo, shardId);
      return {
        get header() {
          headerReads++;
          return inner.header;
        },
        payload: inner.payload,
      };
    };
    const run = (shardId: number, from: number) =>
      Array.from({ length: 20 }, (_, i) => counted(from + i, shardId));
    const arrays: Fetched[] = [run(0, 0), run(1, 0), run(0, 20), run(1, 20), run(0, 40)];
    const commits: string[][] = [];
    const driver: ConsumerDriver = {
      fetchesOneShard: true,
      fetch: (_max, signal) =>
        arrays.length > 0
          ? Promise.resolve(arrays.shift()!)
          : new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(signal.reason), { once: true })
          ),
      commit: (positions) => {
        commits.push(positions.map((p) => `${p.shardId}@${p.seqNo}`));
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const c = consumerOver({ mode: "resumable", group: "g" }, driver);
    for (let i = 0; i < 99; i++) await c.next();
    await c.flushCommits();
    assert.deepEqual(commits.at(-1)?.sort(), ["0@57", "1@39"], "58, in hand, is not done yet");
    await c.next();
    await c.end();
    assert.deepEqual(commits.at(-1), ["0@59"]);
    // About two headers per array (its first and its last), not one per message.
    assert.ok(headerReads <= 2 * 5 + 2, `${headerReads} headers read for 100 messages`);
  });

  it("autoCommit of batches commits the last of each shard, once the next batch is asked for", async () => {
    const driver = new ScriptedDriver();
    driver.available = 4;
    const { consumer: c } = consumer({ mode: "resumable", group: "g" }, driver);
    await c.nextBatch({ max: 4 });
    assert.deepEqual(driver.commits, []);
    const waiting = c.nextBatch();
    await c.flushCommits();
    assert.deepEqual(driver.commits, [[3n]]);
    await c.end();
    await assert.rejects(waiting, (e: unknown) => isStreamError(e, "Closed"));
  });

  it("commit(batch) without autoCommit commits the last message of each shard", async () => {
    const { driver, consumer: c } = consumer({ mode: "resumable", group: "g", autoCommit: false });
    const batch = [message(7, 0), message(3, 1), message(8, 0), message(4, 1)];
    await c.commit(batch);
    assert.deepEqual(driver.commits, [[8n, 4n]]);
    await c.commit(message(9));
    assert.deepEqual(driver.commits.at(-1), [9n]);
    await c.end();
  });

  it("stats: received, and committed once stored", async () => {
    const { consumer: c } = consumer({ mode: "resumable", group: "g" });
    await c.next();
    await c.nextBatch({ max: 4 });
    assert.equal(c.stats().received, 5);
    assert.equal(c.stats().committed, 0);
    await c.commit([message(5), message(6)]);
    assert.equal(c.stats().committed, 1 + 2, "the first message (owed) and the two committed");
    await c.end();
    assert.equal(c.stats().committed, 7, "end commits the batch autoCommit owed");
    assert.equal(c.stats().lag, undefined);
  });

  it("a real-time consumer cannot commit", async () => {
    const { consumer: c } = consumer({});
    await assert.rejects(
      c.commit(message(0)),
      (e: unknown) => isStreamError(e, "CommitNotAllowed"),
    );
    await c.end();
  });

  it("rewind stops the fetch in flight, drops what was buffered, and reads from the new place", async () => {
    const driver = new ScriptedDriver();
    driver.available = 5;
    const { consumer: c } = consumer({ prefetch: 100 }, driver);
    assert.equal((await c.next()).header.seqNo, 0n);
    await tick(); // the pump now waits in a fetch beyond what is available
    await c.rewind("beginning");
    driver.release(Infinity);
    assert.equal((await c.next()).header.seqNo, 0n);
    assert.deepEqual(driver.rewinds, ["beginning"]);
    await assert.rejects(c.seek(new Date()), (e: unknown) => isStreamError(e, "Unsupported"));
    await c.end();
  });

  it("a fetch rejecting Closed ends the iteration after what was buffered; another error fails it", async () => {
    const driver = new ScriptedDriver();
    driver.available = 3;
    const { consumer: c } = consumer({}, driver);
    await tick();
    driver.fetchFailure = new StreamError("Closed", "the input ended");
    driver.release(3);
    const seen: bigint[] = [];
    for await (const m of c) seen.push(m.header.seqNo);
    assert.deepEqual(seen, [0n, 1n, 2n]);

    const failing = new ScriptedDriver();
    failing.fetchFailure = new StreamError("Backend", "the server is gone");
    const { consumer: broken } = consumer({}, failing);
    await assert.rejects(broken.next(), /the server is gone/);
    await broken.end();
  });

  it("end rejects waiting calls with Closed and refuses new ones", async () => {
    const driver = new ScriptedDriver();
    driver.available = 0;
    const { consumer: c } = consumer({}, driver);
    const waiting = c.next();
    const batch = c.nextBatch();
    await c.end();
    await assert.rejects(waiting, (e: unknown) => isStreamError(e, "Closed"));
    await assert.rejects(batch, (e: unknown) => isStreamError(e, "Closed"));
    await assert.rejects(c.next(), (e: unknown) => isStreamError(e, "Closed"));
    assert.ok(driver.closed);
  });

  it("drop removes buffered messages the driver gives away", async () => {
    const driver = new ScriptedDriver();
    driver.available = 6;
    const { consumer: c } = consumer({ prefetch: 100 }, driver);
    assert.equal((await c.next()).header.seqNo, 0n);
    const dropped = c.drop((m) => m.header.seqNo % 2n === 1n);
    assert.deepEqual(dropped.map((m) => m.header.seqNo), [1n, 3n, 5n]);
    assert.deepEqual((await c.nextBatch()).map((m) => m.header.seqNo), [2n, 4n]);
    await c.end();
  });
});
