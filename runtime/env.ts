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

/** The command-line arguments after the script name. */
export function args(): string[] {
  return process.argv.slice(2);
}

/** This machine's host name. */
export function hostname(): string {
  return osHostname();
}

/** This process's id. */
export function pid(): number {
  return process.pid;
}

/** The current working directory. */
export function cwd(): string {
  return process.cwd();
}

/** The path of the running executable (deno, bun or node). */
export function execPath(): string {
  return process.execPath;
}

/** End the process with `code`. */
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
