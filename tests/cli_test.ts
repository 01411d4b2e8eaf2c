/** The `seastreamer` CLI as users run it: help, exit codes, produce/consume, graceful shutdown. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readAll, runCli, spawnCli } from "./support/spawn.ts";
import { makeTempDir, readFile, remove } from "../runtime/mod.ts";
import { uniqueName } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

async function readText(url: URL): Promise<string> {
  const bytes = await readFile(url.pathname);
  return new TextDecoder().decode(bytes);
}

describe("cli", () => {
  it("--help lists the commands; each command has --help", async () => {
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    for (
      const command of [
        "clock",
        "produce",
        "consume",
        "relay",
        "tail",
        "decode",
        "bench",
        "streams",
        "groups",
        "trim",
      ]
    ) {
      assert.match(help.stdout, new RegExp(`\\n  ${command} `));
      const usage = await runCli([command, "--help"]);
      assert.equal(usage.code, 0, `${command} --help`);
      assert.match(
        usage.stdout,
        new RegExp(`seastreamer ${command === "tail" ? "consume" : command}`),
      );
      assert.match(usage.stdout, /Example/);
    }
  });

  it("usage errors exit 2 with a message; runtime errors exit 1", async () => {
    const unknown = await runCli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const missing = await runCli(["relay", "--input", "stdio:///a"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--output is required/);
    const badOption = await runCli(["clock", "--stream", "stdio:///a", "--bogus", "1"]);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /Unknown option '--bogus'/);
    const badUrl = await runCli(["consume", "--input", "stdio:///bad key"]);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /invalid stream key/);
    const badProtocol = await runCli(["consume", "--input", "gopher://user:secret@host/a"]);
    assert.equal(badProtocol.code, 1);
    assert.match(badProtocol.stderr, /StreamError\(Connect\): unknown protocol/);
    assert.doesNotMatch(badProtocol.stderr, /secret/);
  });

  it("--version prints the version of deno.json", async () => {
    const deno = JSON.parse(await readText(new URL("../deno.json", import.meta.url)));
    const version = await runCli(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), deno.version);
  });

  it("a COMMAND --help lists every option the command takes", async () => {
    // Every option the parser accepts is in the help: each one given alone is
    // either accepted, or refused for a reason other than being unknown.
    const usage = await runCli(["produce", "--help"]);
    const listed = [...usage.stdout.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(
      listed.sort(),
      ["--file", "--format", "--header", "--help", "--key", "--output"],
    );
    const consume = await runCli(["consume", "--help"]);
    for (
      const option of [
        "--input",
        "--format",
        "--from",
        "--group",
        "--mode",
        "--count",
        "--no-follow",
      ]
    ) {
      assert.match(consume.stdout, new RegExp(`^  ${option}\\b`, "m"), option);
    }
  });

  it("an unknown option (long or short) or a stray argument exits 2 and names it", async () => {
    const short = await runCli(["consume", "--input", "stdio:///a", "-z"]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /Unknown option '-z'/);
    const stray = await runCli(["consume", "--input", "stdio:///a", "extra"]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /Unexpected argument 'extra'/);
    const unknown = await runCli(["--bogus"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option "--bogus"/);
  });

  it("a closed output (| head -n 1) ends the command quietly with 0", async () => {
    const child = spawnCli(["clock", "--stream", "stdio:///t", "--interval", "1ms"]);
    const reader = child.stdout!.getReader();
    await reader.read(); // the first tick, then the reader goes away
    await reader.cancel();
    const [stderr, status] = await Promise.all([readAll(child.stderr), child.status]);
    assert.equal(status.code, 0, stderr);
    assert.equal(stderr, "");
  });

  it("produce sends its arguments, or stdin's lines", async () => {
    const fromArgs = await runCli(["produce", "--output", "stdio:///p", "one", "two"]);
    assert.equal(fromArgs.code, 0, fromArgs.stderr);
    assert.match(fromArgs.stdout, /\| p \| 0\] one\n.*\| p \| 1\] two\n$/);
    const fromStdin = await runCli(["produce", "--output", "stdio:///q"], "l1\nl2\nl3\n");
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(fromStdin.stdout.trim().split("\n").length, 3);
    assert.match(fromStdin.stdout, /\| q \| 2\] l3\n$/);
  });

  it("consume --count stops after N messages; --format payload prints payloads", async () => {
    const { code, stdout } = await runCli(
      ["consume", "--input", "stdio:///c", "--count", "2", "--format", "payload"],
      "[c] 1\n[c] 2\n[c] 3\n",
    );
    assert.equal(code, 0);
    assert.equal(stdout, "1\n2\n");
  });

  it("SIGINT stops clock gracefully: exit 0, whole lines only", async () => {
    const child = spawnCli(["clock", "--stream", "stdio:///t", "--interval", "10ms"], {
      stdin: "ignore",
    });
    const reader = child.stdout!.getReader();
    let output = "";
    while ((output.match(/\n/g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      output += new TextDecoder().decode(value);
    }
    child.kill("SIGINT");
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      output += new TextDecoder().decode(value);
    }
    const status = await child.status;
    assert.equal(status.code, 0, `${status.signal} ${await readAll(child.stderr)}`);
    assert.ok(output.endsWith("\n"));
    for (const line of output.trim().split("\n")) {
      assert.match(line, /^\[.* \| t \| \d+\] tick \d+$/);
    }
  });
});

describe("cli bench", () => {
  it("bench measures a file stream end to end and prints both rates", async () => {
    const dir = await makeTempDir("seastreamer-cli-bench-");
    try {
      const { code, stdout, stderr } = await runCli([
        "bench",
        "--output",
        `file://${dir}/bench.ss/b`,
        "--count",
        "2000",
        "--size",
        "64",
      ]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^produced 2000 msgs in [\d.]+ s: \d+ msg\/s, [\d.]+ MB\/s$/m);
      assert.match(stdout, /^consumed 2000 msgs in [\d.]+ s: \d+ msg\/s, [\d.]+ MB\/s$/m);
      assert.equal(stderr, "", "no progress lines when stderr is not a terminal");
    } finally {
      await remove(dir);
    }
  });

  it("streams lists a file's streams and a Kafka server's topics; stdio has none (exit 1)", async () => {
    const dir = await makeTempDir("seastreamer-cli-");
    try {
      for (const stream of ["orders", "refunds"]) {
        const sent = await runCli(["produce", "--output", `file://${dir}/s.ss/${stream}`, "x"]);
        assert.equal(sent.code, 0, sent.stderr);
      }
      const listed = await runCli(["streams", "--input", `file://${dir}/s.ss`]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(columns(listed.stdout), [
        ["STREAM", "LENGTH", "FIRST", "LAST", "SHARDS", "GROUPS"],
        ["orders", "1", "1", "1", "1", "-"],
        ["refunds", "1", "1", "1", "1", "-"],
      ]);
      const reset = await runCli([
        "groups",
        "--input",
        `file://${dir}/s.ss/orders`,
        "--group",
        "billing",
        "--reset",
        "earliest",
      ]);
      assert.equal(reset.code, 0, reset.stderr);
      assert.deepEqual(columns(reset.stdout), [
        ["STREAM", "GROUP", "MEMBERS", "PENDING", "LAG"],
        ["orders", "billing", "0", "0", "1"],
      ]);
    } finally {
      await remove(dir);
    }
    await requireKafka();
    const topic = uniqueName("cli");
    const sent = await runCli(["produce", "--output", `${KAFKA_URL}/${topic}`, "x"]);
    assert.equal(sent.code, 0, sent.stderr);
    // Names only: the test broker holds every test's topics, each described in turn otherwise.
    const topics = await runCli(["streams", "--input", KAFKA_URL, "--names"]);
    assert.equal(topics.code, 0, topics.stderr);
    assert.ok(topics.stdout.split("\n").includes(topic), topics.stdout);
    assert.ok(!topics.stdout.includes("__consumer_offsets"));
    const stdio = await runCli(["streams", "--input", "stdio://"]);
    assert.equal(stdio.code, 1);
    assert.match(stdio.stderr, /Unsupported/);
  });
});

/** A table's lines split into their columns. */
function columns(table: string): string[][] {
  return table.trim().split("\n").map((line) => line.trim().split(/\s+/));
}
