/** The CLI on files: `decode`, and produce/consume/relay with file:// URLs. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeTempDir, openFile, remove } from "../runtime/mod.ts";
import { runCli } from "./support/spawn.ts";
import { fixturePath } from "./support/fixtures.ts";

const dir = await makeTempDir("seastreamer-file-cli-");
after(() => remove(dir));

describe("cli: files", () => {
  it("decode prints SeaStreamer's file: header, [timestamp | stream | seq | shard] payload, beacons", async () => {
    const { code, stdout, stderr } = await runCli(["decode", fixturePath("consumer.ss")]);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.equal(
      lines[0],
      '# {"fileName":"consumer-1691686154741","createdAt":"2023-08-10T16:49:14.742","beaconInterval":1024}',
    );
    assert.equal(lines[1], "[2023-08-10T16:49:14.745 | hello | 0 | 1] hello-0");
    const messages = lines.filter((line) => line.startsWith("["));
    assert.equal(messages.length, 101);
    assert.match(messages[100], /\| SEA_STREAMER_INTERNAL \| 0 \| 0\] EOS$/);
    assert.equal(lines.filter((line) => line.startsWith("# beacon")).length, 4);
  });

  it("decode --format ndjson --header-only: one JSON object per message, no payload", async () => {
    const { code, stdout } = await runCli([
      "decode",
      fixturePath("sample-1.ss"),
      "--format",
      "ndjson",
      "--header-only",
    ]);
    assert.equal(code, 0);
    const records = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(records.length, 28);
    assert.deepEqual(Object.keys(records[0]).sort(), [
      "seq",
      "shard",
      "size",
      "stream",
      "timestamp",
    ]);
    assert.equal(records[0].stream, "file");
  });

  it("decode reports bad bytes with their offset on stderr, goes on, and exits 1", async () => {
    const path = `${dir}/bad.ss`;
    const produced = await runCli([
      "produce",
      "--output",
      `file://${path}/s`,
      "one",
      "two",
      "three",
    ]);
    assert.equal(produced.code, 0, produced.stderr);
    const file = await openFile(path, { write: true });
    await file.write(new TextEncoder().encode("X"), 128 + 1 + 1 + 24 + 4); // "one" -> "Xne"
    await file.close();
    const { code, stdout, stderr } = await runCli(["decode", path]);
    assert.equal(code, 1);
    assert.match(stderr, /checksum mismatch .* at byte offset 128; \d+ bytes skipped/);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 3, "the header line, then the two good messages");
    assert.match(lines[1], /two$/);
    assert.match(lines[2], /three$/);
  });

  it("produce, consume and relay with file:// URLs", async () => {
    const source = `file://${dir}/in.ss`;
    const produced = await runCli(["produce", "--output", `${source}/orders`], "a\nb\nc\n");
    assert.equal(produced.code, 0, produced.stderr);
    const relayed = await runCli([
      "relay",
      "--input",
      `${source}/orders`,
      "--output",
      `file://${dir}/out.ss/copies`,
      "--from",
      "earliest",
      "--no-follow",
    ]);
    assert.equal(relayed.code, 0, relayed.stderr);
    const consumed = await runCli([
      "consume",
      "--input",
      `file://${dir}/out.ss/copies`,
      "--from",
      "earliest",
      "--no-follow",
      "--format",
      "payload",
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stdout, "a\nb\nc\n");
    const missing = await runCli(["consume", "--input", `file://${dir}/none.ss/x`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /StreamKeyNotFound/);
  });
});
