/**
 * Several OS processes of two runtimes (Deno with Bun, Node with Deno, Bun with
 * Deno) appending to one `.ss` file at once: every message once and intact,
 * each writer's order kept, seqNo strictly increasing per stream across
 * writers; a lock left by a SIGKILLed writer does not block the others for long.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SeaStreamer, StreamError } from "../mod.ts";
import {
  createSymlink,
  hostname,
  makeDir,
  makeTempDir,
  readFile,
  remove,
  runtimeName,
  signalProcess,
  sleep,
  spawnProcess,
  stat,
} from "../runtime/mod.ts";
import { AT_END, MessageReader } from "../backends/file/reader.ts";
import { FormatError } from "../backends/file/format.ts";
import { moduleExtension, readAll, scriptCommand } from "./support/spawn.ts";
import { decodeSsFile } from "./support/ss_decoder.ts";
import { fixturePath } from "./support/fixtures.ts";

const dir = await makeTempDir("seastreamer-file-writers-");
after(() => remove(dir));

/**
 * Another runtime's command for the writer script, to mix runtimes: on Deno, Bun
 * from node_modules; on Node and Bun, Deno from npm (on the script's source).
 */
async function otherRuntime(): Promise<[string, string[]] | undefined> {
  if (runtimeName === "deno") {
    const bun = fileURLToPath(new URL("../node_modules/.bin/bun", import.meta.url));
    const [, prefix] = scriptCommand("./testdata/file_many_writer", import.meta.url);
    return (await stat(bun)) ? [bun, [prefix.at(-1)!]] : undefined;
  }
  // Node runs the built tests (npm/tests/): the sources are two levels up.
  const source = new URL(
    moduleExtension === ".js"
      ? "../../tests/testdata/file_many_writer.ts"
      : "./testdata/file_many_writer.ts",
    import.meta.url,
  );
  return ["npx", ["-y", "deno@2.9.6", "run", "-A", "--quiet", fileURLToPath(source)]];
}

/** Start writer `id` appending `count` messages to `path`, on this runtime or (`other`) another. */
async function startWriter(path: string, id: string, count: number, other: boolean) {
  const [command, prefix] = (other ? await otherRuntime() : undefined) ??
    scriptCommand("./testdata/file_many_writer", import.meta.url);
  return spawnProcess(command, [...prefix, path, id, String(count)], {
    stdin: "ignore",
    stdout: "ignore",
  });
}

/** Every message of `path` in file order (failing on damage). */
async function readBack(path: string): Promise<{ text: string; seq: bigint }[]> {
  const reader = (await MessageReader.open(path))!;
  const out: { text: string; seq: bigint }[] = [];
  try {
    for (let result = await reader.read(); result !== AT_END; result = await reader.read()) {
      if (result instanceof FormatError) throw result;
      if (result.header.streamKey === "s") {
        out.push({ text: result.payload.text(), seq: result.header.seqNo });
      }
    }
    assert.equal(reader.position, reader.knownSize, "the file ends with a whole message");
  } finally {
    await reader.close();
  }
  return out;
}

describe("file backend: many writer processes on one file", () => {
  it("4 writers × 10,000 messages: each once, each writer's order kept, seqNo increasing", async () => {
    const path = `${dir}/many.ss`;
    const writers = 4;
    const count = 10_000;
    const children = await Promise.all(
      Array.from({ length: writers }, (_, w) => startWriter(path, `w${w}`, count, w % 2 === 1)),
    );
    const statuses = await Promise.all(
      children.map(async (child) => ({
        status: await child.status,
        err: await readAll(child.stderr),
      })),
    );
    for (const { status, err } of statuses) assert.equal(status.code, 0, err);
    const messages = await readBack(path);
    assert.equal(messages.length, writers * count);
    // A decoder written from the format's description, sharing no code with ours, reads
    // the same messages (and SeaStreamer's own reference files, as a check of it).
    const independent = decodeSsFile((await readFile(path))!)
      .filter((m) => m.streamKey === "s")
      .map((m) => ({ text: new TextDecoder().decode(m.payload), seq: m.seq }));
    assert.deepEqual(independent, messages);
    for (const fixture of ["consumer.ss", "sample-1.ss"]) {
      const decoded = decodeSsFile((await readFile(fixturePath(fixture)))!);
      assert.equal(new TextDecoder().decode(decoded.at(-1)!.payload), "EOS", fixture);
    }
    for (let i = 1; i < messages.length; i++) {
      assert.ok(
        messages[i].seq > messages[i - 1].seq,
        `seqNo ${messages[i].seq} after ${messages[i - 1].seq}`,
      );
    }
    assert.equal(messages.at(-1)!.seq, BigInt(writers * count));
    // The writers ran at once: their batches interleave.
    const switches =
      messages.filter((m, i) =>
        i > 0 && m.text.split("-")[0] !== messages[i - 1].text.split("-")[0]
      ).length;
    assert.ok(switches >= writers, `only ${switches} switches between writers`);
    for (let w = 0; w < writers; w++) {
      const mine = messages.filter((m) => m.text.startsWith(`w${w}-`)).map((m) => m.text);
      assert.deepEqual(mine, Array.from({ length: count }, (_, i) => `w${w}-${i}`));
    }
    // Our consumer reads the whole file too (beacons and all).
    const streamer = await SeaStreamer.connect(`file://${path}`);
    const consumer = await streamer.createConsumer(["s"], {
      autoStreamReset: "earliest",
      file: { live: false },
    });
    let read = 0;
    for await (const _ of consumer) read++;
    assert.equal(read, writers * count);
    await streamer.disconnect();
  });

  it("a lock left by a SIGKILLed writer blocks the others for a moment only", async () => {
    const path = `${dir}/killed.ss`;
    const victim = await startWriter(path, "v", 1_000_000, false);
    const deadline = Date.now() + 30_000;
    while (((await stat(path))?.size ?? 0) < 64 * 1024) {
      assert.ok(Date.now() < deadline, "the writer never wrote");
      await sleep(20);
    }
    signalProcess(victim.pid, "SIGKILL");
    await victim.status;
    // Whether or not it died holding the lock, leave one naming it, as if it had.
    await remove(`${path}.lock`);
    assert.ok(await createSymlink(`${victim.pid}:${Date.now()}:${hostname()}:x`, `${path}.lock`));
    const started = Date.now();
    const other = await startWriter(path, "o", 500, true);
    const status = await other.status;
    assert.equal(status.code, 0, await readAll(other.stderr));
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    const messages = await readBack(path);
    const victims = messages.filter((m) => m.text.startsWith("v-")).map((m) => m.text);
    assert.deepEqual(victims, Array.from({ length: victims.length }, (_, i) => `v-${i}`));
    const others = messages.filter((m) => m.text.startsWith("o-")).map((m) => m.text);
    assert.deepEqual(others, Array.from({ length: 500 }, (_, i) => `o-${i}`));
    for (let i = 1; i < messages.length; i++) assert.ok(messages[i].seq > messages[i - 1].seq);
  });

  it("where no lock can be made, opening for writing fails with a StreamError", async () => {
    const path = `${dir}/nolock.ss`;
    const streamer = await SeaStreamer.connect(`file://${path}`, {
      file: { createIfNotExists: true },
    });
    // A directory where the lock belongs: no lock can be made there.
    await makeDir(`${path}.lock`);
    await assert.rejects(
      async () => await (await streamer.createProducer("s")).send("x"),
      (error: unknown) => error instanceof StreamError && /cannot lock/.test(error.message),
    );
    await remove(`${path}.lock`);
    await streamer.disconnect();
  });
});
