/** The `seastreamer` CLI on Redis URLs: produce, consume, relay, streams and trim. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { runCli } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
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
    const stream = uniqueName("cli");
    const produced = await runCli(["produce", "--output", `${REDIS_URL}/${stream}`, "a", "b"]);
    assert.equal(produced.code, 0, produced.stderr);
    const fromStdin = await runCli(["produce", "--output", `${REDIS_URL}/${stream}`], "c\nd\n");
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const consumed = await runCli([
      "consume",
      "--input",
      `${REDIS_URL}/${stream}`,
      "--from",
      "earliest",
      "--count",
      "4",
      "--format",
      "payload",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout, "a\nb\nc\nd\n");
    assert.equal(await (await client()).xlen(stream), 4);
  });

  it("relay copies a stream to another; a resumable group continues", async () => {
    await requireRedis();
    const [from, to] = [uniqueName("from"), uniqueName("to")];
    await runCli(["produce", "--output", `${REDIS_URL}/${from}`, "x1", "x2", "x3"]);
    const group = uniqueName("g");
    const relay = (count: string) =>
      runCli([
        "relay",
        "--input",
        `${REDIS_URL}/${from}`,
        "--output",
        `${REDIS_URL}/${to}`,
        "--from",
        "earliest",
        "--mode",
        "resumable",
        "--group",
        group,
        "--count",
        count,
      ]);
    const first = await relay("2");
    assert.equal(first.code, 0, first.stderr);
    const second = await relay("1");
    assert.equal(second.code, 0, second.stderr);
    const entries = await (await client()).xrange(to, "-", "+");
    assert.deepEqual(entries.map(([, fields]) => fields[1]), ["x1", "x2", "x3"]);
  });

  it("streams lists the server's streams; trim shortens them", async () => {
    const redis = await client();
    const stream = uniqueName("trim");
    const pipeline = redis.pipeline();
    for (let i = 0; i < 500; i++) pipeline.xadd(stream, "*", "msg", `t${i}`);
    await pipeline.exec();
    const listed = await runCli(["streams", "--input", REDIS_URL]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.split("\n").includes(stream));
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
    assert.match(usage.stderr, /exactly one of --maxlen, --minid and --max-age/);
  });
});
