import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { COMMIT_EVERY, COMMIT_INTERVAL_MS, CommitBatcher, lastOfEachShard } from "./commits.ts";
import type { CommitResults } from "./driver.ts";
import type { Message, MessageHeader } from "../types.ts";

const at = (seqNo: number, shardId = 0, streamKey = "s"): MessageHeader => ({
  streamKey,
  shardId,
  seqNo: BigInt(seqNo),
  timestamp: new Date(0),
});

function batcher(send?: (positions: readonly MessageHeader[]) => Promise<CommitResults>) {
  const sent: string[][] = [];
  const failures: unknown[] = [];
  const commits = new CommitBatcher(
    send ?? ((positions) => {
      sent.push(positions.map((p) => `${p.streamKey}/${p.shardId}@${p.seqNo}`));
      return Promise.resolve();
    }),
    (error) => failures.push(error),
  );
  return { commits, sent, failures };
}

describe("CommitBatcher", () => {
  it("merges auto-commits per shard and sends them after the interval", async () => {
    const { commits, sent } = batcher();
    commits.mark(at(1));
    commits.mark(at(2));
    commits.mark(at(5, 1));
    commits.mark(at(3));
    assert.deepEqual(sent, []);
    await new Promise((resolve) => setTimeout(resolve, COMMIT_INTERVAL_MS + 50));
    assert.deepEqual(sent, [["s/0@3", "s/1@5"]]);
  });

  it(`sends at once every ${COMMIT_EVERY} messages`, async () => {
    const { commits, sent } = batcher();
    for (let i = 0; i < COMMIT_EVERY; i++) commits.mark(at(i));
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(sent, [[`s/0@${COMMIT_EVERY - 1}`]]);
    commits.stop();
  });

  it("an explicit commit is sent at once and says exactly where; an auto-commit only moves forward", async () => {
    const { commits, sent } = batcher();
    commits.mark(at(9));
    await commits.commit([at(4)]);
    assert.deepEqual(sent, [["s/0@4"]]);
    commits.mark(at(2));
    await commits.flush();
    assert.deepEqual(sent.at(-1), ["s/0@2"], "nothing newer was owed");
  });

  it("flushes made while a commit is in flight share one next commit, which sends what is owed when it starts", async () => {
    const sent: string[][] = [];
    let release!: () => void;
    const { commits } = batcher((positions) => {
      sent.push(positions.map((p) => `${p.shardId}@${p.seqNo}`));
      // The first commit is slow (a round trip); the others return at once.
      return sent.length === 1
        ? new Promise<void>((resolve) => release = resolve)
        : Promise.resolve();
    });
    commits.mark(at(1));
    const first = commits.flush();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(sent, [["0@1"]]);
    // A fast consumer flushes every COMMIT_EVERY messages while the first is in flight.
    const waiting: Promise<void>[] = [];
    for (let i = 2; i <= 50; i++) {
      commits.mark(at(i));
      waiting.push(commits.flush());
    }
    commits.mark(at(7, 1));
    assert.equal(new Set(waiting).size, 1, "one flush queued behind the one in flight");
    release();
    await Promise.all([first, ...waiting]);
    assert.deepEqual(sent, [["0@1"], ["0@50", "1@7"]]);
    await commits.commit([at(51)]);
    assert.deepEqual(sent.at(-1), ["0@51"], "a later flush sends again");
  });

  it("a failed auto-commit is tried again with the next flush; five in a row fail the consumer", async () => {
    let fail = true;
    const sent: bigint[] = [];
    const { commits, failures } = batcher((positions) => {
      if (fail) return Promise.reject(new Error("server away"));
      sent.push(...positions.map((p) => p.seqNo));
      return Promise.resolve();
    });
    commits.mark(at(1));
    await assert.rejects(commits.flush(), /server away/);
    fail = false;
    await commits.flush();
    assert.deepEqual(sent, [1n]);
    fail = true;
    for (let i = 0; i < 5; i++) {
      commits.mark(at(10 + i));
      await commits.flush().catch(() => {});
    }
    assert.equal(failures.length, 1);
    commits.stop();
  });

  it("a position refused for good fails its commit() and is not tried again", async () => {
    const refused = new Error("partition moved");
    let calls = 0;
    const { commits } = batcher(() => {
      calls++;
      return Promise.resolve([refused]);
    });
    await assert.rejects(commits.commit([at(3)]), /partition moved/);
    await commits.flush();
    assert.equal(calls, 1);
  });

  it("markNext: a message after the last marked on its shard, its header read only when needed", async () => {
    const { commits, sent } = batcher();
    let reads = 0;
    const next = (seqNo: number): Message => ({
      get header() {
        reads++;
        return at(seqNo);
      },
      payload: undefined as never,
    });
    commits.mark(at(1));
    for (let seqNo = 2; seqNo <= 9; seqNo++) commits.markNext(next(seqNo));
    assert.equal(reads, 0);
    commits.mark(at(4, 1)); // another shard: the newest of shard 0 is merged, its header read
    assert.equal(reads, 1);
    await commits.flush();
    assert.deepEqual(sent, [["s/0@9", "s/1@4"]]);
    commits.mark(at(11));
    commits.markNext(next(12));
    await commits.commit([at(10, 1)]);
    assert.deepEqual(sent.at(-1), ["s/0@12", "s/1@10"]);
  });

  it("lastOfEachShard keeps the last header of each shard", () => {
    assert.deepEqual(
      lastOfEachShard([at(1), at(7, 1), at(2), at(8, 1), at(1, 0, "t")]).map((h) =>
        `${h.streamKey}/${h.shardId}@${h.seqNo}`
      ),
      ["s/0@2", "s/1@8", "t/0@1"],
    );
  });
});
