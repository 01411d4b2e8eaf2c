/**
 * Real unix pipes: `clock | relay | consume` as three OS processes of the CLI,
 * connected by the shell, under the runtime the tests run on.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnProcess } from "../runtime/mod.ts";
import { readAll, runCli, scriptCommand } from "./support/spawn.ts";

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

function cli(args: string[]): string {
  const [command, prefix] = scriptCommand("../cli", import.meta.url);
  return [command, ...prefix, ...args].map(quote).join(" ");
}

describe("stdio over real pipes", () => {
  it("clock | relay | consume: 200 messages renumbered on the new stream, in order", async () => {
    const pipeline = [
      cli(["clock", "--stream", "stdio:///a", "--interval", "2ms", "--count", "200"]),
      cli(["relay", "--input", "stdio:///a", "--output", "stdio:///b"]),
      cli(["consume", "--input", "stdio:///b", "--format", "ndjson"]),
    ].join(" | ");
    const child = spawnProcess("sh", ["-c", pipeline], { stdin: "ignore" });
    const [stdout, stderr] = await Promise.all([readAll(child.stdout), readAll(child.stderr)]);
    const { code } = await child.status;
    assert.equal(code, 0, stderr);
    const records = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(records.length, 200, stderr);
    records.forEach((record, i) => {
      assert.equal(record.stream, "b");
      assert.equal(record.seq, String(i));
      assert.equal(record.shard, 0);
      assert.equal(record.payload, `tick ${i}`);
    });
  });

  it("a malformed line is reported on stderr and the rest still flows", async () => {
    const input = "[2022-01-01T00:00:00 | a | 0] x\n" +
      "[2022-01-01T00:00:00 | a | NaN] bad\n" +
      "[a | 1] y\n";
    const { code, stdout, stderr } = await runCli(
      ["relay", "--input", "stdio:///a", "--output", "stdio:///b"],
      input,
    );
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 2, stdout);
    assert.match(lines[0], /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} \| b \| 0\] x$/);
    assert.match(lines[1], /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} \| b \| 1\] y$/);
    assert.match(stderr, /line 2: .*"NaN" is not an unsigned integer/);
  });

  it("bare lines are broadcast: every consumer stream sees them", async () => {
    const { code, stdout, stderr } = await runCli(
      ["consume", "--input", "stdio:///a", "--format", "log"],
      "hello\n[a] for a\n[b] for b\n",
    );
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 2, stdout);
    assert.match(lines[0], /\| broadcast \| 0 \| 0\] hello$/);
    assert.match(lines[1], /\| a \| 0 \| 0\] for a$/);
  });
});
