/** The `seastreamer` CLI on NATS URLs: produce, consume, relay and streams, with raw JetStream on the other side. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { runCli } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
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
    const stream = uniqueName("cli");
    const produced = await runCli(["produce", "--output", `${NATS_URL}/${stream}`, "a", "b"]);
    assert.equal(produced.code, 0, produced.stderr);
    const fromStdin = await runCli(["produce", "--output", `${NATS_URL}/${stream}`], "c\nd\n");
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const consumed = await runCli([
      "consume",
      "--input",
      `${NATS_URL}/${stream}`,
      "--from",
      "earliest",
      "--count",
      "4",
      "--format",
      "payload",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout, "a\nb\nc\nd\n");
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
    await runCli(["produce", "--output", `${NATS_URL}/${stream}`, "ours"]);
    const js = jetstream(await client());
    await js.publish(`${stream}.3`, "theirs");
    const consumed = await runCli([
      "consume",
      "--input",
      `${NATS_URL}/${stream}`,
      "--from",
      "earliest",
      "--count",
      "2",
      "--format",
      "ndjson",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    const lines = consumed.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => [l.payload, l.shard]), [["ours", 0], [
      "theirs",
      3,
    ]]);
  });

  it("relay copies a stream to another; a resumable group continues; streams lists both", async () => {
    const [from, to] = [uniqueName("from"), uniqueName("to")];
    await runCli(["produce", "--output", `${NATS_URL}/${from}`, "x1", "x2", "x3"]);
    const group = uniqueName("g");
    const relay = (count: string) =>
      runCli([
        "relay",
        "--input",
        `${NATS_URL}/${from}`,
        "--output",
        `${NATS_URL}/${to}`,
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
    const consumed = await runCli([
      "consume",
      "--input",
      `${NATS_URL}/${to}`,
      "--from",
      "earliest",
      "--count",
      "3",
      "--format",
      "payload",
    ]);
    assert.equal(consumed.stdout, "x1\nx2\nx3\n");
    const listed = await runCli(["streams", "--input", NATS_URL]);
    assert.equal(listed.code, 0, listed.stderr);
    const keys = listed.stdout.split("\n");
    assert.ok(keys.includes(from) && keys.includes(to), listed.stdout);
  });
});
