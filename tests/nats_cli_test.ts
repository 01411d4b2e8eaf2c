/** The `seastreamer` CLI on NATS URLs: produce, consume, relay, streams and groups, with raw JetStream on the other side. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { runCli } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
import {
  consumePayloads,
  consumeTheLast,
  listedStreams,
  produceAndConsume,
  relayInTwoRuns,
} from "./support/cli_runs.ts";
import { NATS_URL, requireNats } from "./support/nats.ts";
import { parseNatsUri } from "../backends/nats/mod.ts";

let raw: NatsConnection | undefined;
async function client(): Promise<NatsConnection> {
  await requireNats();
  raw ??= await connect({ servers: parseNatsUri(NATS_URL).servers });
  return raw;
}
after(() => raw?.close());

describe("cli on nats", () => {
  it("produce, then consume from the earliest; JetStream holds them on stream.0", async () => {
    await requireNats();
    const stream = await produceAndConsume(NATS_URL);
    const jsm = await jetstreamManager(await client());
    const info = await jsm.streams.info(stream);
    assert.equal(info.state.messages, 4);
    assert.deepEqual(info.config.subjects, [`${stream}.*`]);
    const first = await jsm.streams.getMessage(stream, { seq: 1 });
    assert.equal(first?.subject, `${stream}.0`);
    assert.equal(first?.string(), "a");
  });

  it("what another program publishes to stream.N is consumed, with its shard", async () => {
    const stream = uniqueName("raw");
    const produced = await runCli(["produce", "--output", `${NATS_URL}/${stream}`, "ours"]);
    assert.equal(produced.code, 0, produced.stderr);
    const js = jetstream(await client());
    await js.publish(`${stream}.3`, "theirs");
    const consumed = await runCli([
      "consume",
      "--input",
      `${NATS_URL}/${stream}`,
      "--from",
      "earliest",
      "--no-follow",
      "--format",
      "ndjson",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    const lines = consumed.stdout.split("\n").filter((line) => line !== "").map((line) =>
      JSON.parse(line)
    );
    assert.deepEqual(
      lines.map((l) => [l.payload, l.shard]),
      [["ours", 0], ["theirs", 3]],
      `stdout: ${consumed.stdout}\nstderr: ${consumed.stderr}`,
    );
  });

  it("--from -N: the last N messages (dense sequences: a rewind)", async () => {
    await requireNats();
    await consumeTheLast(NATS_URL);
  });

  it("relay copies a stream to another; a resumable group continues; streams lists both", async () => {
    const [from, to] = await relayInTwoRuns(NATS_URL);
    assert.equal(await consumePayloads(`${NATS_URL}/${to}`), "x1\nx2\nx3\n");
    const keys = await listedStreams(NATS_URL);
    assert.ok(keys.includes(from) && keys.includes(to), keys.join(" "));
  });

  it("groups lists a stream's groups and moves one", async () => {
    const [from] = await relayInTwoRuns(NATS_URL);
    const groups = async (...extra: string[]) => {
      const run = await runCli([
        "groups",
        "--input",
        `${NATS_URL}/${from}`,
        "--format",
        "ndjson",
        ...extra,
      ]);
      assert.equal(run.code, 0, run.stderr);
      return run.stdout.trim().split("\n").map((line) => JSON.parse(line));
    };
    const [group] = await groups();
    assert.equal(group.lag, 0);
    const [moved] = await groups("--group", group.name, "--reset", "2");
    assert.equal(moved.name, group.name);
    assert.equal(moved.lag, 2, "x2 and x3 to read again");
  });
});
