/**
 * Redis servers for the tests and local use, from the machine's `redis-server`
 * (Debian package `redis-server`): one server on a free loopback port, with
 * its data in a fresh temp directory (append-only file, so a restart keeps
 * every acknowledged write), stopped and removed afterwards.
 *
 * From code: {@link ensureRedis} (REDIS_URL, or a server answering PING on
 * 127.0.0.1:6379, or a new one), {@link startRedis}, {@link freePort}. From the shell:
 *
 * ```sh
 * deno run -A scripts/redis.ts run      # a server on a free port, in the foreground
 * deno run -A scripts/redis.ts ping     # whether 127.0.0.1:6379 answers
 * ```
 *
 * @module
 */
import {
  args,
  connectTcp,
  exit,
  getEnv,
  isMainModule,
  listenTcp,
  makeTempDir,
  onSignal,
  remove,
  sleep,
  spawnProcess,
} from "../runtime/mod.ts";
import type { ChildProcess } from "../runtime/mod.ts";
import { makeCertificates } from "./certificates.ts";

/** A running server (or one found running) and how to stop it. */
export interface RunningRedis {
  /** Where it listens: `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stop what this call started (nothing, if it found a server already running). */
  stop(): Promise<void>;
}

/** A server process started by {@link startRedis}. */
export interface RedisNode extends RunningRedis {
  /** Its port. */
  readonly port: number;
  /** Its data directory. */
  readonly dir: string;
  /** Its current process id. */
  readonly pid: number;
  /** Stop it with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Start it again on the same port and data (after `kill()` or a stop by `halt()`). */
  restart(): Promise<void>;
  /** Stop it cleanly but keep its data, for `restart()`. */
  halt(): Promise<void>;
  /** With the `tls` option: the port that speaks TLS. */
  readonly tlsPort?: number;
  /** With the `tls` option: the PEM certificate of the CA that signed the server's certificate. */
  readonly caPem?: string;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Port (default: a free one). */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `["--cluster-enabled", "yes"]`. */
  extraArgs?: string[];
  /** A data directory to use (default: a fresh temp directory, removed by `stop()`). */
  dir?: string;
  /** How long start-up may take, ms (default 10,000). */
  timeoutMs?: number;
  /**
   * Also listen with TLS on a free port ({@link RedisNode.tlsPort}), with a
   * certificate for 127.0.0.1 signed by a CA made by `openssl` in the data directory.
   */
  tls?: boolean;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const listener = await listenTcp({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  await listener.close();
  return port;
}

/** Whether a Redis server answers PING on `host:port` within `ms`. */
export async function redisAnswers(host: string, port: number, ms = 2000): Promise<boolean> {
  let conn;
  try {
    conn = await connectTcp({ hostname: host, port });
  } catch {
    return false;
  }
  const timer = setTimeout(() => conn.close(), ms);
  try {
    const writer = conn.writable.getWriter();
    await writer.write(new TextEncoder().encode("PING\r\n"));
    writer.releaseLock();
    const reader = conn.readable.getReader();
    let reply = "";
    while (!reply.includes("\r\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      reply += new TextDecoder().decode(value);
    }
    // +PONG, or -NOAUTH from a server that wants a password: either way, Redis answers.
    return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function launch(port: number, dir: string, extraArgs: string[]): ChildProcess {
  return spawnProcess("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--protected-mode",
    "no",
    ...extraArgs,
  ], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}

async function waitUntilAnswering(port: number, child: ChildProcess, ms: number): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + ms;
  while (!(await redisAnswers("127.0.0.1", port, 500))) {
    if (exited) throw new Error(`redis-server on port ${port} exited at start-up`);
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await sleep(50);
  }
}

/** Start a `redis-server` on loopback; resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisNode> {
  const port = options.port ?? await freePort();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? await makeTempDir("seastreamer-redis-");
  const extraArgs = [...options.extraArgs ?? []];
  const timeoutMs = options.timeoutMs ?? 10_000;
  let tls: { port: number; caPem: string } | undefined;
  if (options.tls) {
    const files = await makeCertificates(dir);
    tls = { port: await freePort(), caPem: files.caPem };
    extraArgs.push(
      "--tls-port",
      String(tls.port),
      "--tls-cert-file",
      files.certFile,
      "--tls-key-file",
      files.keyFile,
      "--tls-ca-cert-file",
      files.caFile,
      "--tls-auth-clients",
      "no",
    );
  }
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
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    tlsPort: tls?.port,
    caPem: tls?.caPem,
    get pid() {
      return child.pid;
    },
    kill: () => halt("SIGKILL"),
    halt: () => halt("SIGTERM"),
    async restart() {
      await halt("SIGTERM");
      child = launch(port, dir, extraArgs);
      running = true;
      child.status.then(() => running = false);
      await waitUntilAnswering(port, child, timeoutMs);
    },
    async stop() {
      await halt("SIGTERM");
      if (ownDir) await remove(dir).catch(() => {});
    },
  };
}

/**
 * The server the tests use: `REDIS_URL` if set, else 127.0.0.1:6379 if it
 * answers PING, else a new `redis-server` on a free port (stopped by `stop()`).
 */
export async function ensureRedis(): Promise<RunningRedis> {
  const given = getEnv("REDIS_URL");
  if (given) return { url: given, stop: () => Promise.resolve() };
  if (await redisAnswers("127.0.0.1", 6379)) {
    return { url: "redis://127.0.0.1:6379", stop: () => Promise.resolve() };
  }
  return await startRedis();
}

if (isMainModule(import.meta)) {
  const [command] = args();
  if (command === "run") {
    const node = await startRedis({ port: Number(getEnv("REDIS_PORT") ?? 0) || undefined });
    console.log(`redis-server on ${node.url} (data ${node.dir}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => {
      onSignal("SIGINT", () => resolve());
      onSignal("SIGTERM", () => resolve());
    });
    await node.stop();
    exit(0);
  } else if (command === "ping") {
    const answers = await redisAnswers("127.0.0.1", 6379);
    console.log(answers ? "a Redis server answers on 127.0.0.1:6379" : "no answer");
    exit(answers ? 0 : 1);
  } else {
    console.error("usage: deno run -A scripts/redis.ts run|ping");
    exit(2);
  }
}
