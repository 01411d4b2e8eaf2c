/**
 * Child processes with web-stream pipes (the CLI's pipelines and the tests use them).
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { StreamError } from "../types.ts";
import { webReadable, webWritable } from "./node_streams.ts";
import { runtimeName } from "./detect.ts";

/**
 * What to connect a child's standard stream to.
 *
 * @example
 * ```ts
 * import { spawnProcess, type StdioSetting } from "@seastreamer/seastreamer/runtime";
 *
 * const quiet: StdioSetting = "ignore";
 * const child = spawnProcess("ls", ["/"], { stdin: quiet, stdout: quiet, stderr: quiet });
 * console.log(child.stdout, (await child.status).code); // undefined 0
 * ```
 */
export type StdioSetting = "pipe" | "inherit" | "ignore";

/**
 * Options of {@link spawnProcess}.
 *
 * @example
 * ```ts
 * import { type SpawnOptions, spawnProcess } from "@seastreamer/seastreamer/runtime";
 *
 * const options: SpawnOptions = {
 *   cwd: "/",
 *   env: { GREETING: "hi" },
 *   stdin: "ignore",
 *   stderr: "inherit",
 * };
 * const child = spawnProcess("sh", ["-c", 'echo "$GREETING from $(pwd)"'], options);
 * console.log(await new Response(child.stdout).text()); // hi from /
 * ```
 */
export interface SpawnOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables (added to this process's environment). */
  env?: Record<string, string>;
  /** The child's stdin (default "pipe"). */
  stdin?: StdioSetting;
  /** The child's stdout (default "pipe"). */
  stdout?: StdioSetting;
  /** The child's stderr (default "pipe"). */
  stderr?: StdioSetting;
  /**
   * Let the child run on after this process exits (its own process group; this
   * process does not wait for it). Use with "ignore" for every standard stream.
   */
  detached?: boolean;
}

/**
 * How a child process ended.
 *
 * @example
 * ```ts
 * import { type ProcessStatus, spawnProcess } from "@seastreamer/seastreamer/runtime";
 *
 * const child = spawnProcess("sleep", ["10"], {
 *   stdin: "ignore",
 *   stdout: "ignore",
 *   stderr: "ignore",
 * });
 * child.kill("SIGTERM");
 * const status: ProcessStatus = await child.status;
 * console.log(status); // { code: null, signal: "SIGTERM" }
 * ```
 */
export interface ProcessStatus {
  /** The exit code, or null if a signal ended it. */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: string | null;
}

/**
 * A running child process.
 *
 * @example
 * ```ts
 * import { type ChildProcess, spawnProcess } from "@seastreamer/seastreamer/runtime";
 *
 * const child: ChildProcess = spawnProcess("cat", [], { stderr: "ignore" });
 * const input = child.stdin!.getWriter();
 * await input.write(new TextEncoder().encode("echoed back"));
 * await input.close();
 * console.log(await new Response(child.stdout).text(), (await child.status).code); // echoed back 0
 * ```
 */
export interface ChildProcess {
  /** Its process id. */
  readonly pid: number;
  /** Its stdin, when piped. */
  readonly stdin: WritableStream<Uint8Array> | undefined;
  /** Its stdout, when piped. */
  readonly stdout: ReadableStream<Uint8Array> | undefined;
  /** Its stderr, when piped. */
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  /** Resolves when it has ended. */
  readonly status: Promise<ProcessStatus>;
  /** Send it a signal (default SIGTERM). */
  kill(signal?: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
}

const DENO_STDIO = { pipe: "piped", inherit: "inherit", ignore: "null" } as const;

function spawnWithDeno(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...args],
      cwd: options.cwd,
      env: options.env,
      stdin: DENO_STDIO[options.stdin ?? "pipe"],
      stdout: DENO_STDIO[options.stdout ?? "pipe"],
      stderr: DENO_STDIO[options.stderr ?? "pipe"],
    }).spawn();
  } catch (error) {
    const failed = Promise.reject(
      new StreamError("Runtime", `cannot run ${command}: ${(error as Error).message}`, {
        cause: error,
      }),
    );
    failed.catch(() => {});
    return {
      pid: -1,
      stdin: undefined,
      stdout: undefined,
      stderr: undefined,
      status: failed,
      kill() {},
    };
  }
  const piped = (setting: StdioSetting | undefined) => (setting ?? "pipe") === "pipe";
  return {
    pid: child.pid,
    stdin: piped(options.stdin) ? child.stdin : undefined,
    stdout: piped(options.stdout) ? child.stdout : undefined,
    stderr: piped(options.stderr) ? child.stderr : undefined,
    status: child.status.then((status) => ({
      code: status.signal ? null : status.code,
      signal: status.signal,
    })),
    kill(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // Already ended.
      }
    },
  };
}

/**
 * Start `command` with `args` (no shell: nothing in them is interpreted).
 * Deno uses its own `Deno.Command` (its node:child_process shim misreports the
 * exit status of a child that handled a signal); Node and Bun use node:child_process.
 *
 * @example
 * ```ts
 * import { spawnProcess } from "@seastreamer/seastreamer/runtime";
 *
 * const child = spawnProcess("echo", ["hi"], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
 * console.log((await child.status).code); // 0
 * ```
 */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  if (runtimeName === "deno") return spawnWithDeno(command, args, options);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : undefined,
    stdio: [options.stdin ?? "pipe", options.stdout ?? "pipe", options.stderr ?? "pipe"],
    shell: false,
    detached: options.detached ?? false,
  });
  if (options.detached) child.unref();
  const status = new Promise<ProcessStatus>((resolve, reject) => {
    child.once("error", (error) =>
      reject(
        new StreamError("Runtime", `cannot run ${command}: ${error.message}`, { cause: error }),
      ));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  status.catch(() => {});
  return {
    pid: child.pid ?? -1,
    stdin: child.stdin ? webWritable(child.stdin) : undefined,
    stdout: child.stdout ? webReadable(child.stdout) : undefined,
    stderr: child.stderr ? webReadable(child.stderr) : undefined,
    status,
    kill(signal = "SIGTERM") {
      child.kill(signal);
    },
  };
}

/**
 * Send `signal` to the process `pid` (signal 0 only checks that it exists);
 * whether there was such a process.
 *
 * @example
 * ```ts
 * import { pid, signalProcess } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(signalProcess(pid(), 0)); // true: this process exists
 * ```
 */
export function signalProcess(
  pid: number,
  signal: "SIGTERM" | "SIGINT" | "SIGKILL" | 0 = "SIGTERM",
): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "ESRCH") return false;
    throw new StreamError("Runtime", `cannot signal process ${pid}: ${error}`, { cause: error });
  }
}
