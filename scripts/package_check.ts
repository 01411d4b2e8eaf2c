/**
 * The npm package as users get it: `npm pack` the build in npm/, install the
 * tarball into empty Node and Bun projects, and run code and examples there
 * that import `seastreamer`, `seastreamer/processor`… A user of the stdio or
 * file backend installs neither kafkajs nor ioredis.
 *
 * Run by scripts/test.ts after the npm build (`deno test -A scripts/package_check.ts`).
 *
 * @module
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getEnv, makeTempDir, remove, spawnProcess } from "../runtime/mod.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules", ".bin", "bun");

async function run(command: string, args: string[], cwd: string, env?: Record<string, string>) {
  const child = spawnProcess(command, args, { cwd, env, stdin: "ignore" });
  let stdout = "";
  let stderr = "";
  const decoder = () => new TextDecoder();
  const out = decoder();
  const err = decoder();
  await Promise.all([
    (async () => {
      for await (const chunk of child.stdout!) stdout += out.decode(chunk, { stream: true });
    })(),
    (async () => {
      for await (const chunk of child.stderr!) stderr += err.decode(chunk, { stream: true });
    })(),
  ]);
  const { code } = await child.status;
  return { code, stdout, stderr };
}

async function ok(command: string, args: string[], cwd: string, env?: Record<string, string>) {
  const result = await run(command, args, cwd, env);
  assert.equal(result.code, 0, `${command} ${args.join(" ")}: ${result.stderr}${result.stdout}`);
  return result;
}

/** An example from npm/examples, its imports pointed at the installed package. */
async function installExample(project: string, name: string): Promise<void> {
  const source = await fs.readFile(join(root, "npm", "examples", `${name}.js`), "utf8");
  const rewritten = source
    .replaceAll('"../mod.js"', '"seastreamer"')
    .replaceAll('"../processor/mod.js"', '"seastreamer/processor"')
    .replaceAll('"../runtime/mod.js"', '"seastreamer/runtime"');
  assert.doesNotMatch(rewritten, /from "\.\.?\//, `${name} imports a relative path`);
  await fs.writeFile(join(project, `${name}.mjs`), rewritten);
}

const SMOKE = `
import { SeaStreamer, StreamError } from "seastreamer";
import { Router } from "seastreamer/processor";
const streamer = await SeaStreamer.connect("stdio://", { stdio: { loopback: true, output: new WritableStream() } });
const consumer = await streamer.createConsumer(["a"]);
const producer = await streamer.createProducer("a");
await producer.send("hello from the package");
console.log((await consumer.next()).payload.text(), typeof Router, typeof StreamError);
await streamer.disconnect();
`;

const REDIS_URL = getEnv("REDIS_URL") ?? "redis://127.0.0.1:6379";

const REDIS_SMOKE = `
import { SeaStreamer } from "seastreamer";
import { connect, RedisMessage } from "seastreamer/redis";
const stream = "package-check-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
const streamer = await connect(process.env.REDIS_URL);
const consumer = await streamer.createConsumer([stream], { mode: "resumable", group: "g" });
const generic = await SeaStreamer.connect(process.env.REDIS_URL);
const producer = await generic.createProducer(stream);
await producer.send("hello over redis", { key: "k" });
const message = await consumer.next();
console.log(message.payload.text(), message instanceof RedisMessage, message.key);
await generic.disconnect();
await streamer.disconnect();
`;

let work: string;
let tarball: string;

before(async () => {
  work = await makeTempDir("seastreamer-package-");
  await ok("npm", ["pack", "--pack-destination", work], join(root, "npm"));
  const [file] = (await fs.readdir(work)).filter((f) => f.endsWith(".tgz"));
  tarball = join(work, file);
});

after(() => remove(work));

describe("npm package", () => {
  it("ships the library, not the tests, benchmarks, examples or scripts", async () => {
    const { stdout } = await ok("tar", ["tzf", tarball], work);
    const files = stdout.trim().split("\n");
    assert.ok(files.includes("package/mod.js") && files.includes("package/mod.d.ts"));
    assert.ok(files.includes("package/cli.js"));
    for (const file of files) {
      assert.doesNotMatch(file, /_test\.js$|\/(tests|bench|examples|scripts|testdata)\//, file);
    }
  });

  it("installs into an empty Node project without kafkajs or ioredis, and runs there", async () => {
    const project = join(work, "node-app");
    await fs.mkdir(project);
    await ok("npm", ["init", "-y"], project);
    await ok("npm", ["install", "--no-audit", "--no-fund", tarball], project);
    for (const peer of ["kafkajs", "ioredis"]) {
      await assert.rejects(fs.access(join(project, "node_modules", peer)), `${peer} was installed`);
    }
    await fs.writeFile(join(project, "smoke.mjs"), SMOKE);
    const { stdout } = await ok("node", ["smoke.mjs"], project);
    assert.equal(stdout.trim(), "hello from the package function function");
    const help = await ok("npx", ["--no-install", "seastreamer", "--help"], project);
    assert.match(help.stdout, /Usage: seastreamer COMMAND/);
    for (const name of ["producer", "consumer", "processor"]) await installExample(project, name);
    await ok("node", ["producer.mjs", "file://./shop.ss/orders", "3"], project);
    await ok(
      "node",
      ["processor.mjs", "file://./shop.ss/orders", "file://./shop.ss/invoices"],
      project,
    );
    const { stdout: invoices } = await ok(
      "node",
      ["consumer.mjs", "file://./shop.ss/invoices"],
      project,
    );
    assert.equal(invoices.trim().split("\n").length, 3);
    assert.match(invoices, /"invoice":2/);
  });

  it("with ioredis installed beside it, seastreamer/redis works (Node)", async () => {
    const project = join(work, "node-redis-app");
    await fs.mkdir(project);
    await ok("npm", ["init", "-y"], project);
    await ok("npm", ["install", "--no-audit", "--no-fund", tarball, "ioredis@5.11.1"], project);
    await fs.writeFile(join(project, "redis.mjs"), REDIS_SMOKE);
    const { stdout } = await ok("node", ["redis.mjs"], project, { REDIS_URL });
    assert.equal(stdout.trim(), "hello over redis true k");
  });

  it("installs into an empty Bun project and runs there", async () => {
    const project = join(work, "bun-app");
    await fs.mkdir(project);
    await fs.writeFile(join(project, "package.json"), '{"name":"bun-app","type":"module"}');
    await ok(bun, ["add", tarball], project);
    await fs.writeFile(join(project, "smoke.mjs"), SMOKE);
    const { stdout } = await ok(bun, ["smoke.mjs"], project);
    assert.equal(stdout.trim(), "hello from the package function function");
    const help = await ok(bun, ["x", "--bun", "seastreamer", "--help"], project);
    assert.match(help.stdout, /Usage: seastreamer COMMAND/);
    for (const name of ["producer", "consumer"]) await installExample(project, name);
    await ok(bun, ["producer.mjs", "file://./bun.ss/orders", "2"], project);
    const { stdout: orders } = await ok(bun, ["consumer.mjs", "file://./bun.ss/orders"], project);
    assert.equal(orders.trim().split("\n").length, 2);
  });
});
