/**
 * Benchmark results: each benchmark measures seastreamer and a baseline in the
 * same run and reports the ratio, never a bare time.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { args, execPath, runtimeName, spawnProcess } from "../runtime/mod.ts";

/** One measured comparison. */
export interface BenchResult {
  /** What was measured. */
  name: string;
  /** The baseline it is compared with. */
  baseline: string;
  /** seastreamer's rate. */
  rate: number;
  /** The baseline's rate. */
  baselineRate: number;
  /** Unit of both rates, e.g. "msg/s". */
  unit: string;
  /** rate / baselineRate. */
  ratio: number;
  /** Extra facts (peak memory…). */
  notes?: string;
}

/** Messages (or items) per second of `body`, which handles `count` of them. */
export async function rate(count: number, body: () => Promise<void> | void): Promise<number> {
  const started = performance.now();
  await body();
  return count / ((performance.now() - started) / 1000);
}

/**
 * Run each of `sides` (each returns a rate) once per round, alternating, for
 * `rounds` rounds; per side its best rate, or with `statistic` "median" its
 * median one. Alternating spreads the machine's drift over both sides of a
 * comparison, and each round starts one side later than the one before: the
 * side run first would otherwise always pay for what the last one left behind
 * (its garbage, its closing connections). The best of many rounds picks from a
 * side's luckiest tail: where the noise speeds a round up as well as slowing it
 * down, the median compares like with like.
 */
export async function alternate<K extends string>(
  rounds: number,
  sides: Record<K, () => Promise<number>>,
  statistic: "best" | "median" = "best",
): Promise<Record<K, number>> {
  const names = Object.keys(sides) as K[];
  const rates = {} as Record<K, number[]>;
  for (const name of names) rates[name] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      rates[name].push(await sides[name]());
    }
  }
  const result = {} as Record<K, number>;
  for (const name of names) {
    const sorted = rates[name].sort((a, b) => b - a);
    result[name] = statistic === "best" ? sorted[0] : sorted[(sorted.length - 1) >> 1];
  }
  return result;
}

/** A result comparing `rate` with `baselineRate`. */
export function compare(
  name: string,
  baseline: string,
  rateValue: number,
  baselineRate: number,
  unit = "msg/s",
  notes?: string,
): BenchResult {
  return {
    name,
    baseline,
    rate: rateValue,
    baselineRate,
    unit,
    ratio: rateValue / baselineRate,
    notes,
  };
}

/** Print results as a table, or as JSON with `--json` (for bench/run.ts). */
export function report(results: readonly BenchResult[]): void {
  if (args().includes("--json")) {
    console.log(JSON.stringify({ runtime: runtimeName, results }));
    return;
  }
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(`runtime: ${runtimeName}`);
  for (const r of results) {
    console.log(
      `${r.name}: ${fmt(r.rate)} ${r.unit} vs ${r.baseline} ${fmt(r.baselineRate)} ${r.unit}` +
        ` = ${r.ratio.toFixed(2)}${r.notes ? ` (${r.notes})` : ""}`,
    );
  }
}

/**
 * Run the benchmark module at `moduleUrl` (its `import.meta.url`) in a child
 * process of this runtime, with `childArgs` and `--json`; its results. For
 * figures a fresh process must give (peak memory).
 */
export async function resultsInChild(
  moduleUrl: string,
  childArgs: readonly string[],
): Promise<BenchResult[]> {
  const self = fileURLToPath(moduleUrl);
  const prefix = runtimeName === "deno" ? ["run", "-A", self] : [self];
  const child = spawnProcess(execPath(), [...prefix, ...childArgs, "--json"], {
    stdin: "ignore",
    stderr: "inherit",
  });
  let text = "";
  for await (const chunk of child.stdout!) text += new TextDecoder().decode(chunk);
  const { code } = await child.status;
  const line = text.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`${self} ${childArgs.join(" ")} failed (exit ${code})`);
  }
  return JSON.parse(line).results as BenchResult[];
}
