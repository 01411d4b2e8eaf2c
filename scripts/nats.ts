/**
 * NATS servers for the tests and local use, from the machine's `nats-server`
 * (Debian package `nats-server`) with JetStream: one server on a free loopback
 * port, its JetStream file storage in a fresh temp directory (so a restart
 * keeps every acknowledged message), stopped and removed afterwards.
 *
 * From code: {@link ensureNats} (NATS_URL, or a server answering on
 * 127.0.0.1:4222, or a new one), {@link startNats}. From the shell:
 *
 * ```sh
 * deno run -A scripts/nats.ts run      # a server on a free port, in the foreground
 * deno run -A scripts/nats.ts ping     # whether 127.0.0.1:4222 answers
 * ```
 *
 * @module
 */
import {
  args,
  type ChildProcess,
  connectTcp,
  exit,
  getEnv,
  isMainModule,
  makeTempDir,
  onSignal,
  remove,
  sleep,
  spawnProcess,
} from "../runtime/mod.ts";
import { freePort } from "./redis.ts";

/** A running server (or one found running) and how to stop it. */
export interface RunningNats {
  /** Where it listens: `nats://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stop what this call started (nothing, if it found a server already running). */
  stop(): Promise<void>;
}

/** A server process started by {@link startNats}. */
export interface NatsNode extends RunningNats {
  /** Its port. */
  readonly port: number;
  /** Its JetStream storage directory. */
  readonly dir: string;
  /** Its current process id. */
  readonly pid: number;
  /** Stop it with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Stop it cleanly and start it again on the same port and storage. */
  restart(): Promise<void>;
}

/** Options of {@link startNats}. */
export interface StartNatsOptions {
  /** Port (default: a free one). */
  port?: number;
  /** Extra `nats-server` arguments, e.g. `["--user", "app", "--pass", "secret"]`. */
  extraArgs?: string[];
  /** How long start-up may take, ms (default 10,000). */
  timeoutMs?: number;
}

/** Whether a NATS server greets (`INFO {…}`) on `host:port` within `ms`. */
export async function natsAnswers(host: string, port: number, ms = 2000): Promise<boolean> {
  let conn;
  try {
    conn = await connectTcp({ hostname: host, port });
  } catch {
    return false;
  }
  const timer = setTimeout(() => conn.close(), ms);
  try {
    const reader = conn.readable.getReader();
    let greeting = "";
    while (greeting.length < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      greeting += new TextDecoder().decode(value);
    }
    return greeting.startsWith("INFO");
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function launch(port: number, dir: string, extraArgs: string[]): ChildProcess {
  return spawnProcess(
    "nats-server",
    ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port), ...extraArgs],
    { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
  );
}

async function waitUntilAnswering(port: number, child: ChildProcess, ms: number): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + ms;
  while (!(await natsAnswers("127.0.0.1", port, 500))) {
    if (exited) throw new Error(`nats-server on port ${port} exited at start-up`);
    if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not start`);
    await sleep(50);
  }
}

/** Start a `nats-server -js` on loopback; resolves once it greets. */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsNode> {
  const port = options.port ?? await freePort();
  const dir = await makeTempDir("seastreamer-nats-");
  const extraArgs = options.extraArgs ?? [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  let child = launch(port, dir, extraArgs);
  let running = true;
  child.status.then(() => running = false);
  await waitUntilAnswering(port, child, timeoutMs);
  const halt = async (signal: "SIGTERM" | "SIGKILL") => {
    if (!running) return;
    child.kill(signal);
    await Promise.race([child.status, sleep(10_000)]);
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child.pid;
    },
    kill: () => halt("SIGKILL"),
    async restart() {
      await halt("SIGTERM");
      child = launch(port, dir, extraArgs);
      running = true;
      child.status.then(() => running = false);
      await waitUntilAnswering(port, child, timeoutMs);
    },
    async stop() {
      await halt("SIGTERM");
      await remove(dir).catch(() => {});
    },
  };
}

/**
 * The server the tests use: `NATS_URL` if set, else 127.0.0.1:4222 if it
 * greets, else a new `nats-server -js` on a free port (stopped by `stop()`).
 */
export async function ensureNats(): Promise<RunningNats> {
  const given = getEnv("NATS_URL");
  if (given) return { url: given, stop: () => Promise.resolve() };
  if (await natsAnswers("127.0.0.1", 4222)) {
    return { url: "nats://127.0.0.1:4222", stop: () => Promise.resolve() };
  }
  return await startNats();
}

if (isMainModule(import.meta)) {
  const [command] = args();
  if (command === "run") {
    const node = await startNats({ port: Number(getEnv("NATS_PORT") ?? 0) || undefined });
    console.log(`nats-server -js on ${node.url} (storage ${node.dir}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => {
      onSignal("SIGINT", () => resolve());
      onSignal("SIGTERM", () => resolve());
    });
    await node.stop();
    exit(0);
  } else if (command === "ping") {
    const answers = await natsAnswers("127.0.0.1", 4222);
    console.log(answers ? "a NATS server answers on 127.0.0.1:4222" : "no answer");
    exit(answers ? 0 : 1);
  } else {
    console.error("usage: deno run -A scripts/nats.ts run|ping");
    exit(2);
  }
}
