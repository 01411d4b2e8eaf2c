/**
 * The `seastreamer` CLI runs the server backends' CLI tests share (Redis,
 * NATS): produce and consume, a relay in two runs of one resumable group, the
 * streams listed. Each test checks the result with its own raw client too.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runCli } from "./spawn.ts";
import { uniqueName } from "./helpers.ts";

/** `consume` of `streamUrl` from the earliest, `count` messages (or, without, what it holds now), as payload lines. */
export async function consumePayloads(streamUrl: string, count?: number): Promise<string> {
  const consumed = await runCli([
    "consume",
    "--input",
    streamUrl,
    "--from",
    "earliest",
    ...(count === undefined ? ["--no-follow"] : ["--count", String(count)]),
    "--format",
    "payload",
  ]);
  assert.equal(consumed.code, 0, consumed.stderr);
  return consumed.stdout;
}

/** Six messages produced to a new stream of `serverUrl`; `consume --from -2 --no-follow` prints the last two. */
export async function consumeTheLast(serverUrl: string): Promise<void> {
  const url = `${serverUrl}/${uniqueName("last")}`;
  const produced = await runCli(["produce", "--output", url, "l1", "l2", "l3", "l4", "l5", "l6"]);
  assert.equal(produced.code, 0, produced.stderr);
  for (const [from, expected] of [["-2", "l5\nl6\n"], ["-9", "l1\nl2\nl3\nl4\nl5\nl6\n"]]) {
    const consumed = await runCli([
      "consume",
      "--input",
      url,
      "--from",
      from,
      "--no-follow",
      "--format",
      "payload",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout, expected);
  }
}

/** `produce` a and b as arguments, c and d on stdin, to a new stream of `serverUrl`; they are consumed in order. Returns the stream. */
export async function produceAndConsume(serverUrl: string): Promise<string> {
  const stream = uniqueName("cli");
  const url = `${serverUrl}/${stream}`;
  const produced = await runCli(["produce", "--output", url, "a", "b"]);
  assert.equal(produced.code, 0, produced.stderr);
  const fromStdin = await runCli(["produce", "--output", url], "c\nd\n");
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(await consumePayloads(url, 4), "a\nb\nc\nd\n");
  return stream;
}

/**
 * x1, x2 and x3 produced to a new stream, relayed to another by one resumable
 * group in two runs (two messages, then one): the second run goes on after the
 * first. Returns the two streams.
 */
export async function relayInTwoRuns(serverUrl: string): Promise<[string, string]> {
  const [from, to] = [uniqueName("from"), uniqueName("to")];
  await runCli(["produce", "--output", `${serverUrl}/${from}`, "x1", "x2", "x3"]);
  const group = uniqueName("g");
  for (const count of ["2", "1"]) {
    const relay = await runCli([
      "relay",
      "--input",
      `${serverUrl}/${from}`,
      "--output",
      `${serverUrl}/${to}`,
      "--from",
      "earliest",
      "--mode",
      "resumable",
      "--group",
      group,
      "--count",
      count,
    ]);
    assert.equal(relay.code, 0, relay.stderr);
  }
  return [from, to];
}

/** The streams `streams --format ndjson` lists on `serverUrl`. */
export async function listedStreams(serverUrl: string): Promise<string[]> {
  const listed = await runCli(["streams", "--input", serverUrl, "--format", "ndjson"]);
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout.trim().split("\n").map((line) => JSON.parse(line).stream);
}
