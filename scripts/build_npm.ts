/**
 * The npm build (`deno task build:npm`): `deno pack` (offline; ESM + .d.ts +
 * package.json from deno.json) into npm/, post-processed for the npm name, the
 * CLI's `bin` (run by node), the server clients as optional peer dependencies,
 * `typesVersions` for node10 type resolution, README and LICENSE. The test
 * files are packed the same way into npm/ beside the built modules so
 * `node --test npm/` runs the very tests Deno and Bun run, against the built
 * JavaScript; the `files` allowlist (the library and the examples) keeps them,
 * and anything else in npm/, out of the published package.
 *
 * @module
 */
import { execPath, spawnProcess } from "../runtime/mod.ts";
import * as fs from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "npm");
const deno = execPath();

async function run(command: string, args: string[], cwd = root): Promise<void> {
  const child = spawnProcess(command, args, {
    cwd,
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await child.status;
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`);
}

/** Pack with `config` and extract the tarball's files into `dest`. */
async function pack(config: string, dest: string, extra: string[] = []): Promise<void> {
  const temp = await fs.mkdtemp(join(root, ".cache", "pack-"));
  try {
    const tarball = join(temp, "package.tgz");
    await run(deno, [
      "pack",
      "--quiet",
      "--allow-dirty",
      "--no-source-maps",
      "--config",
      config,
      "-o",
      tarball,
      ...extra,
    ]);
    await fs.mkdir(dest, { recursive: true });
    await run("tar", ["xzf", tarball, "-C", dest, "--strip-components=1"]);
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}

async function walk(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (["node_modules", "npm", ".git", ".cache"].includes(entry.name)) continue;
      found.push(...await walk(path, keep));
    } else if (keep(path)) {
      found.push(path);
    }
  }
  return found;
}

const denoJson = JSON.parse(await fs.readFile(join(root, "deno.json"), "utf8"));
await fs.mkdir(join(root, ".cache"), { recursive: true });
await fs.rm(out, { recursive: true, force: true });

// 1. The package: these files, and the examples, are what npm publishes (`files`).
await pack(join(root, "deno.json"), out);
const libraryFiles = (await walk(out, () => true)).map((p) => relative(out, p));

// 2. The tests, packed from a config whose exports are the test files.
// Test files, the scripts tests start as child processes, the benchmarks and the examples.
const tests = (await walk(
  root,
  (p) =>
    /(_test\.ts|\/testdata\/[^/]+\.ts)$/.test(p) ||
    /^(bench|examples)\/[^/]+\.ts$/.test(relative(root, p)),
))
  .map((p) => "./" + relative(root, p));
const testConfig = join(root, ".deno-pack-tests.json");
await fs.writeFile(
  testConfig,
  JSON.stringify({
    name: "@seastreamer/tests",
    version: denoJson.version,
    exports: Object.fromEntries(tests.map((t) => [t.replace(/\.ts$/, ""), t])),
    imports: denoJson.imports,
    nodeModulesDir: "manual",
  }),
);
const testOut = join(root, ".cache", "npm-tests");
try {
  await fs.rm(testOut, { recursive: true, force: true });
  await pack(testConfig, testOut, ["--allow-slow-types"]);
} finally {
  await fs.rm(testConfig, { force: true });
}
// Copy what the package lacks (tests and their support modules), never overwrite the package.
for (const file of await walk(testOut, (p) => p.endsWith(".js"))) {
  const target = join(out, relative(testOut, file));
  try {
    await fs.access(target);
  } catch {
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.copyFile(file, target);
  }
}
// Test data (fixtures) next to the tests.
for (const file of await walk(join(root, "tests"), (p) => !/\.(ts|js)$/.test(p))) {
  const target = join(out, relative(root, file));
  await fs.mkdir(dirname(target), { recursive: true });
  await fs.copyFile(file, target);
}
// tests/cli_test.ts checks `--version` against ../deno.json (not in `files`: it does not ship).
await fs.copyFile(join(root, "deno.json"), join(out, "deno.json"));
await fs.rm(testOut, { recursive: true, force: true });

// 3. package.json for npm.
const pkg = JSON.parse(await fs.readFile(join(out, "package.json"), "utf8"));
const optionalPeers = [
  "ioredis",
  "kafkajs",
  "@platformatic/kafka",
  "@nats-io/jetstream",
  "@nats-io/transport-node",
];
const dependencies = { ...pkg.dependencies };
const peerDependencies: Record<string, string> = {};
for (const name of optionalPeers) {
  // `deno pack` may leave npm: imports out of the dependencies: take the range from deno.json.
  const imported = /^npm:(?:@[^/]+\/)?[^@]+@(.+)$/.exec(denoJson.imports?.[name] ?? "")?.[1];
  const range = dependencies[name] ?? imported;
  if (range) peerDependencies[name] = range;
  delete dependencies[name];
}
delete dependencies["@types/node"];
const npmPackage = {
  name: "seastreamer",
  version: denoJson.version,
  description:
    "One stream-processing API over Kafka, Redis Streams, NATS JetStream, stdio and SeaStreamer files, on Deno, Node and Bun.",
  license: denoJson.license,
  type: "module",
  keywords: [
    "stream",
    "kafka",
    "redis",
    "nats",
    "jetstream",
    "streams",
    "stream-processing",
    "seastreamer",
  ],
  engines: { node: ">=22" },
  main: pkg.main,
  types: pkg.types,
  // TypeScript's node10 resolution (`moduleResolution: "node"`) reads no `exports`.
  typesVersions: {
    "*": Object.fromEntries(
      Object.entries(pkg.exports as Record<string, { types: string }>)
        .filter(([subpath]) => subpath !== ".")
        .map(([subpath, target]) => [subpath.slice(2), [target.types]]),
    ),
  },
  exports: pkg.exports,
  bin: { seastreamer: "./cli.js" },
  // An allowlist: nothing else in npm/ (the tests built beside the package) ships.
  files: [
    ...libraryFiles.filter((file) => file !== "package.json"),
    ...tests.filter((t) => t.startsWith("./examples/")).map((t) => t.slice(2, -3) + ".js"),
  ].sort(),
  dependencies,
  peerDependencies,
  peerDependenciesMeta: Object.fromEntries(
    Object.keys(peerDependencies).map((name) => [name, { optional: true }]),
  ),
};
await fs.writeFile(join(out, "package.json"), JSON.stringify(npmPackage, null, 2) + "\n");

// 4. The CLI runs under node when installed from npm.
const cli = join(out, "cli.js");
const source = (await fs.readFile(cli, "utf8")).replace(/^#!.*\n/, "");
await fs.writeFile(cli, "#!/usr/bin/env node\n" + source);
await fs.chmod(cli, 0o755);

for (const name of ["README.md", "LICENSE"]) {
  await fs.copyFile(join(root, name), join(out, name)).catch(() => {});
}
console.log(
  `built ${relative(root, out)}/ (seastreamer ${denoJson.version}) with ${tests.length} test files`,
);
