/**
 * The README's promises that code can check: its capability table is the
 * backends' own, and every code block in it runs (the first one, the two
 * commands, is what CI itself runs). Each block is run as a user would run it,
 * as a child process under the runtime the tests run on, with the package's
 * name pointing at this build and the server URLs at the test's servers.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { capabilityTable } from "./support/capability_table.ts";
import {
  execPath,
  joinPath,
  makeDir,
  makeTempDir,
  remove,
  runtimeName,
  spawnProcess,
  writeFile,
} from "../runtime/mod.ts";
import { moduleExtension, readAll, scriptCommand } from "./support/spawn.ts";
import { REDIS_URL, requireRedis } from "./support/redis.ts";
import { uniqueName } from "./support/helpers.ts";
import { SeaStreamer } from "../mod.ts";
import { timeout } from "../runtime/mod.ts";

const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
const dir = await makeTempDir("seastreamer-readme-");
after(() => remove(dir));

/** The README's fenced code blocks: their language and text. */
const blocks = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  lang: m[1],
  code: m[2],
}));

/** The one block that contains `marker`. */
function block(marker: string): string {
  const found = blocks.filter((b) => b.code.includes(marker));
  assert.equal(found.length, 1, `one README block contains ${marker}`);
  return found[0].code;
}

/** The module URL of this build's `path` (no extension), for the package's names. */
const built = (path: string) => new URL(`../${path}${moduleExtension}`, import.meta.url).href;

/** Write `code` as a module, its imports of the package pointed at this build; its path. */
async function moduleOf(code: string): Promise<string> {
  const path = joinPath(dir, `${uniqueName("block")}.mts`);
  await writeFile(
    path,
    code
      .replaceAll('"@seastreamer/seastreamer/processor"', `"${built("processor/mod")}"`)
      .replaceAll('"@seastreamer/seastreamer"', `"${built("mod")}"`),
  );
  return path;
}

/** Start a module under this runtime (Node strips its types). */
function runModule(path: string, env: Record<string, string>) {
  // Deno: the project's config, for the clients' npm names (the module is in a temp dir).
  const config = new URL("../deno.json", import.meta.url);
  const args = runtimeName === "deno"
    ? ["run", "-A", "--quiet", `--config=${fileURLToPath(config)}`, path]
    : [path];
  return spawnProcess(execPath(), args, { env, stdin: "ignore" });
}

/** Wait until `stream` at `uri` holds `count` messages; their payloads. */
async function payloadsOf(uri: string, stream: string, count: number): Promise<string[]> {
  const streamer = await SeaStreamer.connect(uri);
  try {
    const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
    const payloads: string[] = [];
    await timeout(
      (async () => {
        for await (const message of consumer) {
          payloads.push(message.payload.text());
          if (payloads.length === count) break;
        }
      })(),
      30_000,
      `${count} messages on ${stream}`,
    );
    await consumer.end();
    return payloads;
  } finally {
    await streamer.disconnect();
  }
}

describe("README", () => {
  it("its backend table is made from the backends' capability declarations", () => {
    const table = capabilityTable();
    assert.ok(readme.includes(table), `README.md should contain this table:\n${table}`);
  });

  it("has no code block that this file does not run", () => {
    const markers = [
      "deno@2.9.6 task demo", // the first two commands: CI runs the second, the demo test the first
      "process.env.STREAMER",
      "seastreamer clock --stream stdio:///ticks",
      "new Router(",
    ];
    for (const { code } of blocks) {
      assert.ok(
        markers.some((marker) => code.includes(marker)),
        `a README block no test runs:\n${code}`,
      );
    }
  });

  it("the tour: orders in, invoices out, on the file backend", async () => {
    const file = joinPath(dir, `${uniqueName("shop")}.ss`);
    const seed = await SeaStreamer.connect(`file://${file}`, { file: { createIfNotExists: true } });
    const orders = await seed.createProducer("orders");
    await orders.sendBatch([1, 2, 3].map((id) => JSON.stringify({ id, total: id * 10 })));
    await seed.disconnect();

    const child = runModule(await moduleOf(block("process.env.STREAMER")), {
      STREAMER: `file://${file}`,
    });
    const stderr = readAll(child.stderr);
    readAll(child.stdout);
    try {
      const invoices = await payloadsOf(`file://${file}`, "invoices", 3);
      assert.deepEqual(invoices.map((text) => JSON.parse(text)), [
        { order: 1, due: 10 },
        { order: 2, due: 20 },
        { order: 3, due: 30 },
      ]);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    assert.doesNotMatch(await stderr, /Error/);
  });

  it("the stdio pipeline: clock | relay | consume prints 5 JSON lines", async () => {
    const [command, prefix] = scriptCommand("../cli", import.meta.url);
    const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
    const bin = joinPath(dir, uniqueName("bin"));
    await makeDir(bin);
    await writeFile(
      joinPath(bin, "seastreamer"),
      `#!/bin/sh\nexec ${[command, ...prefix].map(quote).join(" ")} "$@"\n`,
    );
    const script = `chmod +x ${quote(joinPath(bin, "seastreamer"))}\nPATH=${quote(bin)}:"$PATH"\n` +
      block("seastreamer clock --stream stdio:///ticks");
    const child = spawnProcess("sh", ["-c", script], { stdin: "ignore" });
    const [stdout, stderr, status] = await Promise.all([
      readAll(child.stdout),
      readAll(child.stderr),
      child.status,
    ]);
    assert.equal(status.code, 0, stderr);
    const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(lines.length, 5, stdout);
    for (const line of lines) assert.equal(line.stream, "copy");
  });

  it("the processor toolkit's example: a Router turns orders into invoices on Redis", async () => {
    await requireRedis();
    const server = REDIS_URL.replace(/\/+$/, "");
    const code = block("new Router(").replaceAll("redis://localhost:6379", server)
      .replaceAll("/orders", `/${uniqueName("orders")}`);
    const input = /\/(orders-[^"]+)"/.exec(code)![1];
    const output = uniqueName("invoices");
    // The orders are there first, and the group at their beginning (a new group would
    // start at the end, after them).
    const streamer = await SeaStreamer.connect(server);
    const producer = await streamer.createProducer(input);
    await producer.sendBatch([7, 8].map((id) => JSON.stringify({ id })));
    await producer.end();
    await streamer.resetGroup(input, "billing", "beginning");
    await streamer.disconnect();
    const child = runModule(await moduleOf(code.replaceAll("/invoices", `/${output}`)), {});
    const stderr = readAll(child.stderr);
    readAll(child.stdout);
    try {
      const invoices = await payloadsOf(server, output, 2);
      assert.deepEqual(invoices.map((text) => JSON.parse(text)), [{ invoice: 7 }, { invoice: 8 }]);
    } finally {
      child.kill("SIGINT");
    }
    assert.equal((await child.status).code, 0, await stderr);
  });
});
