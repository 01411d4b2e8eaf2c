/**
 * The full test run (`deno task test`, the README's test command, what CI runs):
 *
 * 1. installs the npm dev dependencies if any is missing (Bun, ioredis, kafkajs, valibot,
 *    zod, types);
 * 2. static checks: fmt, lint, type check, doc lint, an @example on every exported
 *    symbol, doc examples, publish dry run;
 * 3. starts the brokers the tests need (scripts/brokers.ts);
 * 4. the test files on Deno (sources), Node 22 and 24 from npm (the built npm package)
 *    and Bun (sources), and the packed npm package installed into empty Node 22 and Bun
 *    projects;
 *    The Kafka test files run a second time on each runtime with the
 *    `@platformatic/kafka` driver (`SEASTREAMER_KAFKA_DRIVER=platformatic`): their
 *    counts go to the runtime's, their failures are marked `[platformatic]`;
 * 5. prints each runtime's counts and a last line `N passed, N failed` summing them all,
 *    and exits non-zero if anything failed.
 *
 * Options: `--only deno,node,node22,node24,package,bun,checks` to run a subset (`node`
 * is both Node versions and the package check); `-- FILTER` to pass a name filter on
 * to the runners.
 *
 * @module
 */
import * as fs from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { args, type ChildProcess, execPath, exit, spawnProcess } from "../runtime/mod.ts";
import { startBrokers } from "./brokers.ts";
import { nodeFromNpm } from "./node.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cache = join(root, ".cache", "test");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const deno = execPath();

interface Tally {
  name: string;
  passed: number;
  failed: number;
  failures: string[];
}

const tallies: Tally[] = [];
const argv = args();
const onlyIndex = argv.indexOf("--only");
const only = onlyIndex >= 0 ? new Set(argv[onlyIndex + 1].split(",")) : undefined;
const wanted = (part: string) => !only || only.has(part);

function log(line: string): void {
  console.log(`\n=== ${line}`);
}

/** Run a command with inherited output; its exit code. */
async function run(command: string, commandArgs: string[], env?: Record<string, string>) {
  const child = spawnProcess(command, commandArgs, {
    cwd: root,
    env,
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit",
  });
  return await statusBefore(child, deadline);
}

/**
 * The whole run's deadline: CI has 90 minutes, installing included. A runner still
 * going then is stopped (its unfinished tests count as failed), so that the run
 * always ends with its summary line.
 */
const deadline = Date.now() + 80 * 60_000;
let outOfTime = false;

/** `child`'s exit code; it is killed at `by` (then the code is 1 and {@link outOfTime} set). */
async function statusBefore(child: ChildProcess, by: number): Promise<number> {
  const watchdog = setTimeout(() => {
    if (by === deadline) outOfTime = true;
    child.kill("SIGKILL");
  }, Math.max(0, by - Date.now()));
  try {
    return (await child.status).code ?? 1;
  } finally {
    clearTimeout(watchdog);
  }
}

async function exists(path: string): Promise<boolean> {
  return await fs.access(path).then(() => true, () => false);
}

async function walk(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (["node_modules", ".git", ".cache"].includes(entry.name)) continue;
      if (entry.name === "npm" && dir === root) continue;
      found.push(...await walk(path, keep));
    } else if (keep(path)) {
      found.push(path);
    }
  }
  return found.sort();
}

/** What `deno doc --json` prints (format version 2), as far as {@link everyExportHasExample} reads it. */
interface DocJson {
  version: number;
  nodes: Record<string, {
    symbols?: {
      name: string;
      declarations: {
        location: { filename: string; line: number };
        jsDoc?: { tags?: { kind: string }[] };
      }[];
    }[];
  }>;
}

/**
 * Whether every symbol exported from `modules` has a JSDoc `@example` (issue 7: a
 * runnable example on every public symbol); prints the symbols that have none.
 */
async function everyExportHasExample(modules: string[]): Promise<boolean> {
  const child = spawnProcess(deno, ["doc", "--json", ...modules], {
    cwd: root,
    stdin: "ignore",
    stderr: "inherit",
  });
  const [json, status] = await Promise.all([new Response(child.stdout).text(), child.status]);
  if (status.code !== 0) return false;
  const doc = JSON.parse(json) as DocJson;
  if (doc.version !== 2) {
    console.error(
      `deno doc --json printed format version ${doc.version}; this check reads version 2`,
    );
    return false;
  }
  const missing: string[] = [];
  let total = 0;
  for (const [specifier, node] of Object.entries(doc.nodes)) {
    for (const symbol of node.symbols ?? []) {
      total++;
      const hasExample = symbol.declarations.some((declaration) =>
        declaration.jsDoc?.tags?.some((tag) => tag.kind === "example")
      );
      if (hasExample) continue;
      const { filename, line } = symbol.declarations[0].location;
      const where = `${relative(root, fileURLToPath(filename))}:${line}`;
      missing.push(`${relative(root, fileURLToPath(specifier))}: ${symbol.name} (${where})`);
    }
  }
  if (missing.length > 0) {
    console.error(`${missing.length} of ${total} exported symbols have no @example:`);
    for (const entry of missing) console.error(`  ${entry}`);
    return false;
  }
  console.log(`all ${total} exported symbols have an @example`);
  return true;
}

/** What a runner reported: how many passed, how many failed, and a line on each failure. */
interface Counted {
  passed: number;
  failed: number;
  /** `name: the first line of its error`, for the summary (CI shows only the end of the log). */
  failures: string[];
}

/** `name`, with the first line of `error` if there is one, short enough for a summary line. */
function failureLine(name: string, error: string): string {
  const first = error.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? "";
  return (first ? `${name}: ${first}` : name).slice(0, 300);
}

/** Undo the XML escapes of an attribute or text. */
function unescapeXml(text: string): string {
  return text.replaceAll("&gt;", ">").replaceAll("&lt;", "<").replaceAll("&quot;", '"')
    .replaceAll("&#10;", "\n").replaceAll("&amp;", "&");
}

/** Leaf test cases of a JUnit report and which of them failed. */
function countJunit(xml: string): Counted {
  const cases: { name: string; error: string | undefined }[] = [];
  // Attribute values may hold a raw ">" (Node's reporter does not escape it).
  const pattern = /<testcase\b((?:[^>"]|"[^"]*")*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const match of xml.matchAll(pattern)) {
    const name = unescapeXml(/\bname="([^"]*)"/.exec(match[1])?.[1] ?? "?");
    const body = match[3] ?? "";
    // A test skipped when no filter is given is a failure (a test may not skip itself);
    // with a filter, the filtered-out ones are reported as skipped.
    if (filter.length > 0 && /<skipped\b/.test(body)) continue;
    const failure = /<(failure|error|skipped)\b((?:[^>"]|"[^"]*")*?)(?:\/>|>([\s\S]*?)<\/\1>)/
      .exec(body);
    const failed = failure !== null || /\bfailure="/.test(match[1]);
    const message = failure ? /\bmessage="([^"]*)"/.exec(failure[2])?.[1] ?? failure[3] ?? "" : "";
    cases.push({ name, error: failed ? unescapeXml(message) : undefined });
  }
  // Deno reports a describe() as a test case whose steps follow as "name > step".
  const leaves = cases.filter((c) => !cases.some((o) => o.name.startsWith(c.name + " > ")));
  const failures = leaves.filter((c) => c.error !== undefined);
  return {
    passed: leaves.length - failures.length,
    failed: failures.length,
    failures: failures.map((c) => failureLine(c.name, c.error!)),
  };
}

/**
 * The counts of Node's spec reporter output: its summary, and its list of failing
 * tests with their errors. A cancelled test (a test file that timed out, or a test
 * whose suite's `before` hook failed) is a failed one; the list then also names the
 * suite, with the hook's error.
 */
function countSpec(spec: string): Counted {
  const count = (what: string) =>
    Number(new RegExp(`^ℹ ${what} (\\d+)$`, "m").exec(spec)?.[1] ?? 0);
  const failed = count("fail") + count("cancelled");
  const at = spec.lastIndexOf("✖ failing tests:");
  const listed = at < 0 ? "" : spec.slice(at + 1);
  const failures = [
    ...listed.matchAll(/^✖ (.+?)(?: \([\d.]+m?s\))?\n((?:(?!✖ |test at ).*\n?)*)/gm),
  ]
    .map((m) => failureLine(m[1], m[2]));
  return { passed: count("pass"), failed, failures };
}

/** The Kafka driver of the second pass over the Kafka test files. */
const SECOND_DRIVER = "platformatic";

/**
 * The tally of runtime `name`: a new one, or with `driver`, the one of the first pass
 * (the second pass's counts are added to it).
 */
function tallyOf(name: string, driver: string | undefined): Tally {
  const found = driver ? tallies.find((t) => t.name === name) : undefined;
  if (found) return found;
  const tally: Tally = { name, passed: 0, failed: 0, failures: [] };
  tallies.push(tally);
  return tally;
}

/** `env` with the Kafka driver of the pass, if any. */
function withDriver(env: Record<string, string> | undefined, driver: string | undefined) {
  return driver ? { ...env, SEASTREAMER_KAFKA_DRIVER: driver } : env;
}

async function runtimeSuite(
  name: string,
  command: string,
  commandArgs: string[],
  junit: string,
  env?: Record<string, string>,
  driver?: string,
): Promise<void> {
  const shown = command.startsWith(root) ? relative(root, command) : command;
  const mark = driver ? ` [${driver}]` : "";
  env = withDriver(env, driver);
  log(`${name}${mark}: ${shown} ${commandArgs.slice(0, 4).join(" ")} …`);
  if (junit !== "spec") await fs.rm(junit, { force: true });
  const started = Date.now();
  let code: number;
  let counted: Counted;
  if (junit === "spec") {
    // Node with --test-force-exit: its JUnit reporter is cut off by the forced exit
    // (it writes at the very end); the spec reporter's summary lines are complete.
    const child = spawnProcess(command, commandArgs, {
      cwd: root,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
    });
    const [spec, status] = await Promise.all([
      new Response(child.stdout).text(),
      statusBefore(child, deadline),
    ]);
    console.log(spec);
    code = status;
    counted = countSpec(spec);
  } else {
    code = await run(command, commandArgs, env);
    counted = countJunit(await fs.readFile(junit, "utf8").catch(() => ""));
  }
  if (code !== 0 && counted.failed === 0) {
    counted.failed = 1;
    counted.failures.push(`${name} runner exited with code ${code}`);
  }
  const tally = tallyOf(name, driver);
  tally.passed += counted.passed;
  tally.failed += counted.failed;
  tally.failures.push(...counted.failures.map((f) => f + mark));
  console.log(
    `--- ${name}${mark}: ${counted.passed} passed, ${counted.failed} failed (${
      ((Date.now() - started) / 1000).toFixed(0)
    } s)`,
  );
}

/**
 * A test file that has not finished after this long on Deno is stopped and counted
 * as failed (Deno's runner has no timeout of its own; Node's and Bun's runners
 * fail a test after 5 minutes).
 */
const DENO_FILE_TIMEOUT_MS = 10 * 60_000;

/**
 * The test files on Deno, one `deno test` per file, so that a file that never
 * finishes is stopped after {@link DENO_FILE_TIMEOUT_MS} and the others still
 * count. Type checking was done once by the checks (`--no-check` here).
 */
async function denoSuite(
  files: string[],
  env: Record<string, string>,
  driver?: string,
): Promise<void> {
  const mark = driver ? ` [${driver}]` : "";
  env = withDriver(env, driver)!;
  log(`deno${mark}: deno test -A --no-check FILE, for each of ${files.length} files`);
  const started = Date.now();
  const tally: Tally = { name: "deno", passed: 0, failed: 0, failures: [] };
  for (const [index, file] of files.entries()) {
    const junit = join(cache, `deno-${driver ?? "main"}-${index}.xml`);
    const begun = Date.now();
    await fs.rm(junit, { force: true });
    const child = spawnProcess(deno, [
      "test",
      "-A",
      "--no-check",
      `--junit-path=${junit}`,
      ...(filter.length ? ["--filter", filter.join(" ")] : []),
      file,
    ], { cwd: root, env, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
    const stopAt = Math.min(Date.now() + DENO_FILE_TIMEOUT_MS, deadline);
    const code = await statusBefore(child, stopAt);
    const counted = countJunit(await fs.readFile(junit, "utf8").catch(() => ""));
    const stopped = Date.now() >= stopAt;
    if (stopped || (code !== 0 && counted.failed === 0)) {
      counted.failed++;
      counted.failures.push(
        stopped
          ? `${file}: stopped (no end after ${stopAt - begun} ms)`
          : `${file}: exited with code ${code}`,
      );
    }
    tally.passed += counted.passed;
    tally.failed += counted.failed;
    tally.failures.push(...counted.failures.map((f) => f + mark));
  }
  const total = tallyOf("deno", driver);
  total.passed += tally.passed;
  total.failed += tally.failed;
  total.failures.push(...tally.failures);
  console.log(
    `--- deno${mark}: ${tally.passed} passed, ${tally.failed} failed (${
      ((Date.now() - started) / 1000).toFixed(0)
    } s)`,
  );
}

// 1. Dependencies: a fresh clone, or a node_modules older than package.json.
const devDependencies = Object.keys(
  JSON.parse(await fs.readFile(join(root, "package.json"), "utf8")).devDependencies ?? {},
);
const installed = await Promise.all(
  devDependencies.map((name) => exists(join(root, "node_modules", name, "package.json"))),
);
if (!(await exists(bin("bun"))) || installed.includes(false)) {
  log("installing npm dev dependencies");
  const lock = await exists(join(root, "package-lock.json"));
  if (await run("npm", [lock ? "ci" : "install", "--no-audit", "--no-fund"]) !== 0) {
    console.error("npm install failed");
    exit(1);
  }
}
await fs.mkdir(cache, { recursive: true });

const filter = argv.includes("--") ? argv.slice(argv.indexOf("--") + 1) : [];
const testFiles = (await walk(root, (p) => p.endsWith("_test.ts"))).map((p) => relative(root, p));
/**
 * The test files that talk to Kafka through the backend's driver, run a second time
 * with {@link SECOND_DRIVER}: every tests/ file about Kafka, and the CLI's.
 */
const kafkaTestFiles = testFiles.filter((file) => /^tests\/(.*kafka.*|cli)_test\.ts$/.test(file));
const libraryFiles = (await walk(root, (p) => p.endsWith(".ts") && !p.endsWith("_test.ts")))
  .map((p) => relative(root, p))
  .filter((p) => !/^(tests|scripts|bench|examples)\/|\/testdata\//.test(p));
const exportedModules = Object.values(
  JSON.parse(await fs.readFile(join(root, "deno.json"), "utf8")).exports as Record<string, string>,
);

// 2. Static checks, each one counted as a test.
if (wanted("checks")) {
  // A check is deno's arguments (it passes if deno exits with 0) or a function.
  const checks: [string, string[] | (() => Promise<boolean>)][] = [
    ["deno fmt --check", ["fmt", "--check"]],
    ["deno lint", ["lint"]],
    ["deno check", [
      "check",
      ...(await walk(root, (p) => p.endsWith(".ts"))).map((p) => relative(root, p)),
    ]],
    ["deno doc --lint", ["doc", "--lint", ...exportedModules]],
    ["every exported symbol has an @example", () => everyExportHasExample(exportedModules)],
    ["deno test --doc (documentation examples)", [
      "test",
      "-A",
      "--doc",
      "--quiet",
      ...libraryFiles,
    ]],
    ["deno publish --dry-run", ["publish", "--dry-run", "--allow-dirty", "--quiet"]],
  ];
  const tally: Tally = { name: "checks", passed: 0, failed: 0, failures: [] };
  for (const [name, check] of checks) {
    log(name);
    const passed = typeof check === "function" ? await check() : await run(deno, check) === 0;
    if (passed) {
      tally.passed++;
    } else {
      tally.failed++;
      tally.failures.push(name);
    }
  }
  tallies.push(tally);
}

// 3. Brokers.
const nodeMajors = [22, 24].filter((major) => wanted("node") || wanted(`node${major}`));
const packageCheck = wanted("node") || wanted("package");
const needsBrokers = wanted("deno") || nodeMajors.length > 0 || packageCheck || wanted("bun");
const brokers = needsBrokers ? await startBrokers() : undefined;
const brokerEnv = brokers?.env ?? {};

try {
  // 4. Deno, from the sources.
  if (wanted("deno")) {
    await denoSuite(testFiles, brokerEnv);
    await denoSuite(kafkaTestFiles, brokerEnv, SECOND_DRIVER);
  }

  // 5. Node 22 and 24 (from npm, whatever node this machine has), against the built npm
  // package; then the package as users install it, into empty Node 22 and Bun projects.
  if (nodeMajors.length > 0 || packageCheck) {
    log("building the npm package");
    const built = await run(deno, ["run", "-A", "scripts/build_npm.ts"]);
    if (built !== 0) {
      tallies.push({ name: "npm", passed: 0, failed: 1, failures: ["npm build failed"] });
    } else {
      const nodeTests = testFiles.map((file) => join("npm", file.replace(/\.ts$/, ".js")));
      for (const major of nodeMajors) {
        const name = `node${major}`;
        const node = await nodeFromNpm(major).catch((error) => {
          tallies.push({ name, passed: 0, failed: 1, failures: [String(error)] });
          return undefined;
        });
        if (!node) continue;
        const nodeArgs = [
          "--test",
          "--test-concurrency=1",
          // After the fault tests have passed, the test child can spin in its exit-time
          // handle cleanup (Environment::CleanupHandles calling uv_run forever). Measured
          // with tests/redis_fault_test.ts alone: Node 20 and Node 24 never exit (24: 2 runs
          // of 2, one left for 15 minutes); Node 22 exits (2 of 2), and so does Node 24
          // with libuv's io_uring off (UV_USE_IO_URING=0, 2 of 2). Exit once they finish.
          "--test-force-exit",
          // A test that never settles fails after 5 minutes (as on Bun) instead of holding
          // its file, and CI, forever.
          "--test-timeout=300000",
          "--test-reporter=spec",
          "--test-reporter-destination=stdout",
          ...(filter.length ? ["--test-name-pattern", filter.join(" ")] : []),
        ];
        const env = { ...brokerEnv, ...node.env };
        await runtimeSuite(name, node.execPath, [...nodeArgs, ...nodeTests], "spec", env);
        await runtimeSuite(
          name,
          node.execPath,
          [...nodeArgs, ...kafkaTestFiles.map((file) => join("npm", file.replace(/\.ts$/, ".js")))],
          "spec",
          env,
          SECOND_DRIVER,
        );
      }
      if (packageCheck) {
        await runtimeSuite(
          "package",
          deno,
          ["test", "-A", `--junit-path=${join(cache, "package.xml")}`, "scripts/package_check.ts"],
          join(cache, "package.xml"),
          brokerEnv,
        );
      }
    }
  }

  // 6. Bun, from the sources.
  if (wanted("bun")) {
    const bunArgs = (name: string) => [
      "test",
      "--timeout=300000",
      "--reporter=junit",
      `--reporter-outfile=${join(cache, name)}`,
      ...(filter.length ? ["--test-name-pattern", filter.join(" ")] : []),
    ];
    await runtimeSuite(
      "bun",
      bin("bun"),
      [...bunArgs("bun.xml"), ...testFiles.map((file) => `./${file}`)],
      join(cache, "bun.xml"),
      brokerEnv,
    );
    await runtimeSuite(
      "bun",
      bin("bun"),
      [...bunArgs("bun-kafka.xml"), ...kafkaTestFiles.map((file) => `./${file}`)],
      join(cache, "bun-kafka.xml"),
      brokerEnv,
      SECOND_DRIVER,
    );
  }
} finally {
  await brokers?.stop();
}

// 7. Summary.
log("summary");
if (outOfTime) {
  tallies.push({ name: "time", passed: 0, failed: 1, failures: ["the run reached its deadline"] });
}
let passed = 0;
let failed = 0;
for (const tally of tallies) {
  passed += tally.passed;
  failed += tally.failed;
  console.log(`${tally.name.padEnd(7)} ${tally.passed} passed, ${tally.failed} failed`);
  for (const failure of tally.failures) console.log(`  FAILED: ${failure}`);
}
console.log(`${passed} passed, ${failed} failed`);
exit(failed > 0 || tallies.length === 0 ? 1 : 0);
