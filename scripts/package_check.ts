/**
 * The packages as users get them. npm: `npm pack` the build in npm/, check the
 * tarball's file list and lint it (publint, arethetypeswrong), install it into
 * empty Node 22 and Bun projects and run code, the examples and the `seastreamer`
 * bin there. A user of the stdio or file backend installs no server client
 * (ioredis, kafkajs, the NATS client), and one who connects to a server without
 * its client is told what to install. JSR: what `deno publish` would upload.
 *
 * Run by scripts/test.ts after the npm build (`deno test -A scripts/package_check.ts`).
 *
 * @module
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { execPath, getEnv, makeTempDir, remove, spawnProcess } from "../runtime/mod.ts";
import { nodeFromNpm, type NodeVersion } from "./node.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules", ".bin", "bun");
/** The lowest Node the package supports (`engines`): Node, npm and npx run on it here. */
const NODE_MAJOR = 22;
// Pinned, so that a new release of a linter cannot fail CI overnight.
const PUBLINT = "publint@0.3.25";
const ATTW = "@arethetypeswrong/cli@0.18.5";

async function run(command: string, args: string[], cwd: string, env?: Record<string, string>) {
  const child = spawnProcess(command, args, { cwd, env, stdin: "ignore" });
  const [stdout, stderr, { code }] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  return { code, stdout, stderr };
}

async function ok(command: string, args: string[], cwd: string, env?: Record<string, string>) {
  const result = await run(command, args, cwd, env);
  assert.equal(result.code, 0, `${command} ${args.join(" ")}: ${result.stderr}${result.stdout}`);
  return result;
}

/** A shipped example, copied into `project` as users copy it: its imports become `seastreamer…`. */
async function copyExample(project: string, name: string): Promise<void> {
  const installed = join(project, "node_modules", "seastreamer", "examples", `${name}.js`);
  const rewritten = (await fs.readFile(installed, "utf8"))
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

/** The optional peer dependencies: the clients of the Redis, Kafka and NATS backends. */
const PEERS = ["ioredis", "kafkajs", "@nats-io/transport-node", "@nats-io/jetstream"];

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

/** Each way to reach Redis, Kafka and NATS, without their client packages installed: what it threw. */
const MISSING_CLIENTS = `
import { SeaStreamer, StreamError } from "seastreamer";
const results = [];
for (const [pkg, url, subpath] of [
  ["ioredis", "redis://127.0.0.1:1", "seastreamer/redis"],
  ["kafkajs", "kafka://127.0.0.1:1", "seastreamer/kafka"],
  ["@nats-io/transport-node @nats-io/jetstream", "nats://127.0.0.1:1", "seastreamer/nats"],
]) {
  for (const how of ["SeaStreamer.connect", subpath + " connect"]) {
    try {
      const connect = how === "SeaStreamer.connect"
        ? (uri, options) => SeaStreamer.connect(uri, options)
        : (await import(subpath)).connect;
      await (await connect(url, { timeoutMs: 1000 })).disconnect();
      results.push({ pkg, how, error: "none: it connected" });
    } catch (error) {
      const name = error instanceof StreamError ? "StreamError(" + error.code + ")" : String(error?.name);
      results.push({ pkg, how, error: name + ": " + String(error?.message ?? error).split("\\n")[0] });
    }
  }
}
console.log(JSON.stringify(results));
`;

interface MissingClientResult {
  pkg: string;
  how: string;
  error: string;
}

let node: NodeVersion;
let work: string;
let tarball: string;
let unpacked: string;
let packed: string[];

/** Memoized: each project is installed once, for the tests that use it. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

before(async () => {
  node = await nodeFromNpm(NODE_MAJOR);
  work = await makeTempDir("seastreamer-package-");
  const { stdout } = await ok(
    "npm",
    ["pack", "--json", "--pack-destination", work],
    join(root, "npm"),
    node.env,
  );
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info.filename);
  packed = info.files.map((file) => file.path).sort();
  unpacked = join(work, "unpacked");
  await fs.mkdir(unpacked);
  await ok("tar", ["xzf", tarball, "-C", unpacked, "--strip-components=1"], work);
});

after(() => remove(work));

/** An empty Node project with the tarball installed (and `extra` packages). */
async function nodeProject(name: string, extra: string[] = []): Promise<string> {
  const project = join(work, name);
  await fs.mkdir(project);
  await ok("npm", ["init", "-y"], project, node.env);
  await ok("npm", ["install", "--no-audit", "--no-fund", tarball, ...extra], project, node.env);
  return project;
}

const nodeApp = once(() => nodeProject("node-app"));

const bunApp = once(async () => {
  const project = join(work, "bun-app");
  await fs.mkdir(project);
  await fs.writeFile(join(project, "package.json"), '{"name":"bun-app","type":"module"}');
  await ok(bun, ["add", tarball], project, node.env);
  return project;
});

/** MISSING_CLIENTS's results under Node and Bun, in projects without the clients. */
const missingClients = once(async () => {
  const results: (MissingClientResult & { runtime: string })[] = [];
  for (
    const [runtime, command, project] of [
      ["node", "node", await nodeApp()],
      ["bun", bun, await bunApp()],
    ]
  ) {
    await fs.writeFile(join(project, "missing.mjs"), MISSING_CLIENTS);
    const { stdout } = await ok(command, ["missing.mjs"], project, node.env);
    for (const result of JSON.parse(stdout) as MissingClientResult[]) {
      results.push({ runtime, ...result });
    }
  }
  return results;
});

/** The relative specifiers `source` imports or re-exports (not those of its doc comments' examples). */
function relativeImports(source: string): string[] {
  const statements =
    /^\s*(?:\/\*.*?\*\/\s*)?(?:import|export)\s[^;"'()]*?\bfrom\s*["'](\.\.?\/[^"']+)["']/gm;
  const sideEffects = /^\s*(?:\/\*.*?\*\/\s*)?import\s*["'](\.\.?\/[^"']+)["']/gm;
  const code = source.split("\n").filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
  const dynamic = /\bimport\(\s*["'](\.\.?\/[^"']+)["']\s*\)/g;
  return [
    ...source.matchAll(statements),
    ...source.matchAll(sideEffects),
    ...code.matchAll(dynamic),
  ].map((match) => match[1]);
}

describe("npm package", () => {
  it("ships the library and the examples: no tests, test data, benchmarks, scripts or caches", async () => {
    const pkg = JSON.parse(await fs.readFile(join(unpacked, "package.json"), "utf8"));
    assert.ok(Array.isArray(pkg.files), "package.json has a files allowlist");
    assert.equal(pkg.engines.node, ">=22");
    for (const file of packed) {
      assert.match(file, /^(package\.json|README\.md|LICENSE|.+\.js|.+\.d\.ts)$/, file);
      assert.doesNotMatch(
        file,
        /(^|\/)(tests|testdata|bench|scripts|docs|node_modules|\.cache)\/|_test\.(js|d\.ts)$|^\./,
        file,
      );
    }
    // The examples ship, runnable where they are installed (the README says so).
    const examples = (await fs.readdir(join(root, "examples"))).filter((f) => f.endsWith(".ts"));
    assert.ok(examples.length > 0);
    for (const example of examples) {
      assert.ok(packed.includes(`examples/${example.replace(/\.ts$/, ".js")}`), example);
    }
    // Every entry point is in it, and everything a shipped module imports.
    const targets = [
      pkg.main,
      pkg.types,
      ...Object.values(pkg.bin as Record<string, string>),
      ...Object.values(pkg.exports as Record<string, Record<string, string>>)
        .flatMap((conditions) => Object.values(conditions)),
      ...Object.values(pkg.typesVersions["*"] as Record<string, string[]>).flat(),
    ];
    for (const target of targets) assert.ok(packed.includes(posix.normalize(target)), target);
    for (const file of packed.filter((f) => /\.(js|d\.ts)$/.test(f))) {
      const source = await fs.readFile(join(unpacked, file), "utf8");
      for (const specifier of relativeImports(source)) {
        let target = posix.join(posix.dirname(file), specifier);
        // A declaration file's "./x.js" is x.d.ts: its types must ship too.
        if (file.endsWith(".d.ts")) target = target.replace(/\.js$/, ".d.ts");
        assert.ok(packed.includes(target), `${file} imports ${specifier}, which is not shipped`);
      }
    }
    // The bin runs by itself: node's shebang and the run bit.
    const cli = await fs.readFile(join(unpacked, "cli.js"), "utf8");
    assert.ok(cli.startsWith("#!/usr/bin/env node\n"), "cli.js starts with a node shebang");
    assert.equal((await fs.stat(join(unpacked, "cli.js"))).mode & 0o111, 0o111, "cli.js mode");
  });

  it("publint finds nothing", async () => {
    await ok("npx", ["-y", PUBLINT, "--strict", tarball], work, node.env);
  });

  it("arethetypeswrong finds nothing, node10 resolution of the subpaths included", async () => {
    // The package is ESM only: CommonJS code loads it with import() or, on Node 22, require().
    await ok(
      "npx",
      ["-y", ATTW, "--ignore-rules", "cjs-resolves-to-esm", "--format", "table-flipped", tarball],
      work,
      node.env,
    );
  });

  it("installs into an empty Node 22 project without the server clients, and runs there", async () => {
    const project = await nodeApp();
    for (const peer of PEERS) {
      await assert.rejects(fs.access(join(project, "node_modules", peer)), `${peer} was installed`);
    }
    const { stdout: version } = await ok(
      "node",
      ["-p", "process.versions.node"],
      project,
      node.env,
    );
    assert.equal(version.trim().split(".")[0], String(NODE_MAJOR));
    await fs.writeFile(join(project, "smoke.mjs"), SMOKE);
    const { stdout } = await ok("node", ["smoke.mjs"], project, node.env);
    assert.equal(stdout.trim(), "hello from the package function function");
  });

  it("its bin runs through npx seastreamer, on Node 22", async () => {
    const project = await nodeApp();
    const help = await ok("npx", ["--no-install", "seastreamer", "--help"], project, node.env);
    assert.match(help.stdout, /Usage: seastreamer COMMAND/);
  });

  it("the shipped examples run in place, and copied into the project (Node)", async () => {
    const project = await nodeApp();
    const examples = join("node_modules", "seastreamer", "examples");
    await ok(
      "node",
      [join(examples, "producer.js"), "file://./shop.ss/orders", "3"],
      project,
      node.env,
    );
    await copyExample(project, "processor");
    await ok(
      "node",
      ["processor.mjs", "file://./shop.ss/orders", "file://./shop.ss/invoices"],
      project,
      node.env,
    );
    const { stdout: invoices } = await ok(
      "node",
      [join(examples, "consumer.js"), "file://./shop.ss/invoices"],
      project,
      node.env,
    );
    assert.equal(invoices.trim().split("\n").length, 3);
    assert.match(invoices, /"invoice":2/);
  });

  it("with ioredis installed beside it, seastreamer/redis works (Node)", async () => {
    const project = await nodeProject("node-redis-app", ["ioredis@5.11.1"]);
    await fs.writeFile(join(project, "redis.mjs"), REDIS_SMOKE);
    const { stdout } = await ok("node", ["redis.mjs"], project, { ...node.env, REDIS_URL });
    assert.equal(stdout.trim(), "hello over redis true k");
  });

  it("installs into an empty Bun project without the server clients, and runs there", async () => {
    const project = await bunApp();
    for (const peer of PEERS) {
      await assert.rejects(fs.access(join(project, "node_modules", peer)), `${peer} was installed`);
    }
    await fs.writeFile(join(project, "smoke.mjs"), SMOKE);
    const { stdout } = await ok(bun, ["smoke.mjs"], project, node.env);
    assert.equal(stdout.trim(), "hello from the package function function");
    for (const name of ["producer", "consumer"]) await copyExample(project, name);
    await ok(bun, ["producer.mjs", "file://./bun.ss/orders", "2"], project, node.env);
    const { stdout: orders } = await ok(
      bun,
      ["consumer.mjs", "file://./bun.ss/orders"],
      project,
      node.env,
    );
    assert.equal(orders.trim().split("\n").length, 2);
  });

  it("its bin runs through bunx seastreamer (by its shebang, on Node) and bunx --bun", async () => {
    const project = await bunApp();
    for (const args of [["x", "seastreamer"], ["x", "--bun", "seastreamer"]]) {
      const help = await ok(bun, [...args, "--help"], project, node.env);
      assert.match(help.stdout, /Usage: seastreamer COMMAND/, `bun ${args.join(" ")}`);
    }
  });

  // Without its client package, a backend is Unsupported (not Connect: trying again cannot help),
  // and its message says what to install.
  for (const pkg of ["ioredis", "kafkajs", "@nats-io/transport-node @nats-io/jetstream"]) {
    it(`without ${pkg}, connecting is StreamError(Unsupported) saying "npm i ${pkg}" (Node, Bun)`, async () => {
      const results = (await missingClients()).filter((result) => result.pkg === pkg);
      const escaped = pkg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assert.equal(results.length, 4, JSON.stringify(results));
      for (const { runtime, how, error } of results) {
        assert.match(
          error,
          new RegExp(`^StreamError\\(Unsupported\\): .*\\bnpm i ${escaped}(?![\\w/-])`),
          `${runtime}, ${how}: ${error}`,
        );
      }
    });
  }
});

describe("JSR package", () => {
  it("deno publish uploads the library: no tests, test data, benchmarks, scripts or docs", async () => {
    const { stdout, stderr } = await ok(
      execPath(),
      ["publish", "--dry-run", "--allow-dirty"],
      root,
      { NO_COLOR: "1" },
    );
    // Its list: one "   file:///path (size)" line per file.
    const files = [...`${stdout}\n${stderr}`.matchAll(/^\s+file:\/\/(\S+) \(/gm)]
      .map((match) => match[1].slice(root.length + 1));
    assert.ok(files.length > 50, `${stdout}${stderr}`);
    for (const expected of ["mod.ts", "cli.ts", "deno.json", "README.md", "LICENSE"]) {
      assert.ok(files.includes(expected), `${expected} is published`);
    }
    for (const file of files) {
      assert.doesNotMatch(
        file,
        /(^|\/)(tests|testdata|bench|scripts|examples|docs|npm|node_modules|\.cache)\/|_test\.ts$|^\./,
        file,
      );
    }
  });
});
