/**
 * The process: environment, arguments, identity, exit.
 *
 * @module
 */
import process from "node:process";
import { hostname as osHostname } from "node:os";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The environment variable `name`, or `undefined`.
 *
 * @example
 * ```ts
 * import { getEnv } from "@seastreamer/seastreamer/runtime";
 *
 * const url = getEnv("REDIS_URL") ?? "redis://127.0.0.1:6379";
 * ```
 */
export function getEnv(name: string): string | undefined {
  return process.env[name];
}

/**
 * The command-line arguments after the script name.
 *
 * @example
 * ```ts
 * import { args } from "@seastreamer/seastreamer/runtime";
 *
 * // `deno run -A main.ts produce --count 3` gives [ "produce", "--count", "3" ]
 * const [command = "help", ...rest] = args();
 * console.log(typeof command, Array.isArray(rest)); // string true
 * ```
 */
export function args(): string[] {
  return process.argv.slice(2);
}

/**
 * This machine's host name.
 *
 * @example
 * ```ts
 * import { hostname, pid } from "@seastreamer/seastreamer/runtime";
 *
 * // A name for this group member that differs between machines and processes:
 * const member = `${hostname()}-${pid()}`;
 * console.log(member.length > 0); // true
 * ```
 */
export function hostname(): string {
  return osHostname();
}

/**
 * This process's id.
 *
 * @example
 * ```ts
 * import { pid, signalProcess } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(pid() > 0, signalProcess(pid(), 0)); // true true
 * ```
 */
export function pid(): number {
  return process.pid;
}

/**
 * The current working directory.
 *
 * @example
 * ```ts
 * import { cwd, joinPath, resolvePath } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(resolvePath("data.ss") === joinPath(cwd(), "data.ss")); // true
 * ```
 */
export function cwd(): string {
  return process.cwd();
}

/**
 * The path of the running executable (deno, bun or node).
 *
 * @example Running a script with the same runtime
 * ```ts
 * import { execPath, spawnProcess } from "@seastreamer/seastreamer/runtime";
 *
 * const child = spawnProcess(execPath(), ["--version"], { stdin: "ignore", stderr: "ignore" });
 * console.log((await new Response(child.stdout).text()).length > 0); // true: "deno 2…", "v20…" or "1.…"
 * ```
 */
export function execPath(): string {
  return process.execPath;
}

/**
 * End the process with `code`.
 *
 * @example
 * ```ts
 * import { exit } from "@seastreamer/seastreamer/runtime";
 *
 * const failures: string[] = [];
 * if (failures.length > 0) exit(1); // ends the process at once, without waiting for anything
 * ```
 */
export function exit(code: number): never {
  process.exit(code);
}

/**
 * Set the code the process exits with when it ends by itself.
 *
 * @example
 * ```ts
 * import { setExitCode } from "@seastreamer/seastreamer/runtime";
 *
 * setExitCode(0);
 * ```
 */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

/**
 * Whether the module with `importMeta` is the program's entry point (Deno and
 * Bun say so in `import.meta.main`; on Node, compare with the script path).
 *
 * @example
 * ```ts
 * import { isMainModule } from "@seastreamer/seastreamer/runtime";
 *
 * // Run `main` when this file is the program, not when it is imported (as by a test):
 * if (isMainModule(import.meta)) console.log("running as a program");
 * ```
 */
export function isMainModule(importMeta: ImportMeta): boolean {
  const main = (importMeta as ImportMeta & { main?: boolean }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(importMeta.url));
  } catch {
    return false;
  }
}
