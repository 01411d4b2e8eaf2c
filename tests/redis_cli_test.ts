/** The `seastreamer` CLI on Redis URLs: produce, consume, relay, streams and trim. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { runCli } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
import {
  consumePayloads,
  consumeTheLast,
  listedStreams,
  produceAndConsume,
  relayInTwoRuns,
} from "./support/cli_runs.ts";
import { REDIS_URL, requireRedis } from "./support/redis.ts";

let raw: Redis | undefined;
async function client(): Promise<Redis> {
  await requireRedis();
  raw ??= new Redis(REDIS_URL);
  return raw;
}
after(() => raw?.disconnect());

describe("cli on redis", () => {
  it("produce, then consume from the earliest, as payloads", async () => {
    await requireRedis();
    const stream = await produceAndConsume(REDIS_URL);
    assert.equal(await (await client()).xlen(stream), 4);
  });

  it("--from -N: the last N entries (entry IDs have gaps: read past the others)", async () => {
    await requireRedis();
    await consumeTheLast(REDIS_URL);
  });

  it("--from an entry ID starts there", async () => {
    const redis = await client();
    const stream = uniqueName("from-id");
    for (const id of ["1000-0", "2000-0", "2000-1", "3000-0"]) {
      await redis.xadd(stream, id, "msg", `at ${id}`);
    }
    const consumed = await runCli([
      "consume",
      "--input",
      `${REDIS_URL}/${stream}`,
      "--from",
      "2000-1",
      "--no-follow",
      "--format",
      "payload",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout, "at 2000-1\nat 3000-0\n");
    assert.equal(
      await consumePayloads(`${REDIS_URL}/${stream}`),
      "at 1000-0\nat 2000-0\nat 2000-1\nat 3000-0\n",
    );
  });

  it("relay copies a stream to another; a resumable group continues", async () => {
    await requireRedis();
    const [, to] = await relayInTwoRuns(REDIS_URL);
    const entries = await (await client()).xrange(to, "-", "+");
    assert.deepEqual(entries.map(([, fields]) => fields[1]), ["x1", "x2", "x3"]);
  });

  it("streams lists the server's streams; trim shortens them", async () => {
    const redis = await client();
    const stream = uniqueName("trim");
    const pipeline = redis.pipeline();
    for (let i = 0; i < 500; i++) pipeline.xadd(stream, "*", "msg", `t${i}`);
    await pipeline.exec();
    assert.ok((await listedStreams(REDIS_URL)).includes(stream));
    const trimmed = await runCli([
      "trim",
      "--stream",
      `${REDIS_URL}/${stream}`,
      "--maxlen",
      "100",
      "--exact",
    ]);
    assert.equal(trimmed.code, 0, trimmed.stderr);
    assert.match(trimmed.stdout, new RegExp(`${stream}: 400 entries removed`));
    assert.equal(await redis.xlen(stream), 100);
    const [[lastId]] = await redis.xrevrange(stream, "+", "-", "COUNT", 1);
    const byId = await runCli([
      "trim",
      "--stream",
      `${REDIS_URL}/${stream}`,
      "--minid",
      lastId,
      "--exact",
    ]);
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal(await redis.xlen(stream), 1);
    const usage = await runCli(["trim", "--stream", `${REDIS_URL}/${stream}`]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /exactly one of --maxlen, --min-seq, --minid and --max-age/);
  });
});
