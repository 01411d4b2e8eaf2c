/**
 * `deno task bench`: every benchmark in bench/ on Deno, Node (the npm build) and
 * Bun, one after the other, and a table of the ratios to each benchmark's
 * baseline (measured in the same process, in the same run).
 *
 * `deno task bench [NAME...]` runs only the named benchmarks (e.g. `stdio`).
 *
 * @module
 */
import * as fs from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { args, execPath, spawnProcess } from "../runtime/mod.ts";
import type { BenchResult } from "./report.ts";
import { nodeFromNpm } from "../scripts/node.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const skip = new Set(["run.ts", "report.ts", "seastreamer_rates.ts", "kafka_clients.ts"]);
const chosen = args();
const names = (await fs.readdir(join(root, "bench")))
  .filter((file) => file.endsWith(".ts") && !skip.has(file))
  .map((file) => file.slice(0, -3))
  .filter((name) => chosen.length === 0 || chosen.includes(name))
  .sort();

async function capture(command: string, commandArgs: string[], env?: Record<string, string>) {
  const child = spawnProcess(command, commandArgs, {
    cwd: root,
    env,
    stdin: "ignore",
    stderr: "inherit",
  });
  let text = "";
  for await (const chunk of child.stdout!) text += new TextDecoder().decode(chunk);
  return { code: (await child.status).code, text };
}

const build = await capture(execPath(), ["run", "-A", "scripts/build_npm.ts"]);
if (build.code !== 0) throw new Error("npm build failed");

// Node 22 from npm: the machine's own node may be older than the package supports.
const node = await nodeFromNpm(22);
const runtimes: [string, (name: string) => [string, string[]]][] = [
  ["deno", (name) => [execPath(), ["run", "-A", `bench/${name}.ts`, "--json"]]],
  ["node22", (name) => [node.execPath, [`npm/bench/${name}.js`, "--json"]]],
  ["bun", (name) => [join(root, "node_modules", ".bin", "bun"), [`bench/${name}.ts`, "--json"]]],
];

const rows: { runtime: string; result: BenchResult }[] = [];
for (const name of names) {
  for (const [runtime, command] of runtimes) {
    const [cmd, cmdArgs] = command(name);
    console.error(`running ${name} on ${runtime}…`);
    const { code, text } = await capture(cmd, cmdArgs, runtime === "node22" ? node.env : undefined);
    const line = text.trim().split("\n").pop() ?? "";
    if (code !== 0 || !line.startsWith("{")) {
      console.error(`${name} on ${runtime} failed (exit ${code})`);
      continue;
    }
    for (const result of JSON.parse(line).results as BenchResult[]) rows.push({ runtime, result });
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log("| benchmark | runtime | seastreamer | baseline | ratio | notes |");
console.log("|---|---|---|---|---|---|");
for (const { runtime, result: r } of rows) {
  console.log(
    `| ${r.name} | ${runtime} | ${fmt(r.rate)} ${r.unit} | ${r.baseline}: ${
      fmt(r.baselineRate)
    } ${r.unit} | ${r.ratio.toFixed(2)} | ${r.notes ?? ""} |`,
  );
}
