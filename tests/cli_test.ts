/** The `seastreamer` CLI as users run it: help, exit codes, produce/consume, graceful shutdown. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readAll, runCli, spawnCli } from "./support/spawn.ts";
import { makeTempDir, remove } from "../runtime/mod.ts";
import { uniqueName } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";

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
    assert.match(badOption.stderr, /unknown option --bogus/);
    const badUrl = await runCli(["consume", "--input", "stdio:///bad key"]);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /invalid stream key/);
    const badProtocol = await runCli(["consume", "--input", "gopher://user:secret@host/a"]);
    assert.equal(badProtocol.code, 1);
    assert.match(badProtocol.stderr, /StreamError\(Connect\): unknown protocol/);
    assert.doesNotMatch(badProtocol.stderr, /secret/);
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
      assert.equal(listed.stdout, "orders\nrefunds\n");
    } finally {
      await remove(dir);
    }
    await requireKafka();
    const topic = uniqueName("cli");
    const sent = await runCli(["produce", "--output", `${KAFKA_URL}/${topic}`, "x"]);
    assert.equal(sent.code, 0, sent.stderr);
    const topics = await runCli(["streams", "--input", KAFKA_URL]);
    assert.equal(topics.code, 0, topics.stderr);
    assert.ok(topics.stdout.split("\n").includes(topic), topics.stdout);
    assert.ok(!topics.stdout.includes("__consumer_offsets"));
    const stdio = await runCli(["streams", "--input", "stdio://"]);
    assert.equal(stdio.code, 1);
    assert.match(stdio.stderr, /Unsupported/);
  });
});
