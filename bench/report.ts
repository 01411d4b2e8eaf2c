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
 * `rounds` rounds; the best rate of each side. Alternating spreads the machine's
 * drift over both sides of a comparison.
 */
export async function alternate<K extends string>(
  rounds: number,
  sides: Record<K, () => Promise<number>>,
): Promise<Record<K, number>> {
  const best = {} as Record<K, number>;
  for (const name of Object.keys(sides) as K[]) best[name] = 0;
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(sides) as K[]) {
      best[name] = Math.max(best[name], await sides[name]());
    }
  }
  return best;
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
