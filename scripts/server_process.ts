/**
 * A broker process of the machine (`redis-server`, `nats-server`) for the
 * tests and local use: started on a loopback port with its data in a fresh
 * temp directory, awaited until it answers, restarted on the same port and
 * data, killed as a crash would, stopped and removed. scripts/redis.ts and
 * scripts/nats.ts say how each broker is started and asked; this is the rest.
 *
 * @module
 */
import {
  args,
  type ChildProcess,
  connectTcp,
  exit,
  getEnv,
  listenTcp,
  makeTempDir,
  onSignal,
  remove,
  sleep,
  spawnProcess,
} from "../runtime/mod.ts";

/** A running server (or one found running) and how to stop it. */
export interface RunningServer {
  /** Where it listens, e.g. `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stop what this call started (nothing, if it found a server already running). */
  stop(): Promise<void>;
}

/** A server process started by {@link startServerProcess}. */
export interface ServerNode extends RunningServer {
  /** Its port. */
  readonly port: number;
  /** Its data directory. */
  readonly dir: string;
  /** Its current process id. */
  readonly pid: number;
  /** Stop it with SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Stop it cleanly but keep its data, for `restart()`. */
  halt(): Promise<void>;
  /** Stop it cleanly (if running) and start it again on the same port and data. */
  restart(): Promise<void>;
}

/** How to run one kind of server. */
export interface ServerKind {
  /** The program, e.g. `nats-server`. */
  command: string;
  /** The URL scheme of its URLs, e.g. `nats`. */
  scheme: string;
  /** Its arguments to listen on `port` with its data in `dir`. */
  args(port: number, dir: string): string[];
  /** Whether it answers on `host:port` within `ms`. */
  answers(host: string, port: number, ms: number): Promise<boolean>;
}

/** Options of {@link startServerProcess}. */
export interface ServerOptions {
  /** Port (default: a free one). */
  port?: number;
  /** Arguments after the kind's own. */
  extraArgs?: string[];
  /** A data directory to use (default: a fresh temp directory, removed by `stop()`). */
  dir?: string;
  /** How long start-up may take, ms (default 10,000). */
  timeoutMs?: number;
  /** Called with the data directory before the first start: more arguments (e.g. TLS files made there). */
  prepare?: (dir: string) => Promise<string[]>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const listener = await listenTcp({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  await listener.close();
  return port;
}

/**
 * Whether the server on `host:port` answers within `ms`: `hello` is written
 * first if given, then what comes back is read until `judge` says yes or no
 * (`undefined`: read on).
 */
export async function tcpAnswers(
  host: string,
  port: number,
  ms: number,
  judge: (reply: string) => boolean | undefined,
  hello?: string,
): Promise<boolean> {
  let conn;
  try {
    conn = await connectTcp({ hostname: host, port });
  } catch {
    return false;
  }
  const timer = setTimeout(() => conn.close(), ms);
  try {
    if (hello !== undefined) {
      const writer = conn.writable.getWriter();
      await writer.write(new TextEncoder().encode(hello));
      writer.releaseLock();
    }
    const reader = conn.readable.getReader();
    let reply = "";
    for (;;) {
      const verdict = judge(reply);
      if (verdict !== undefined) return verdict;
      const { value, done } = await reader.read();
      if (done) return false;
      reply += new TextDecoder().decode(value);
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

/** Start a server of `kind` on loopback; resolves once it answers. */
export async function startServerProcess(
  kind: ServerKind,
  options: ServerOptions = {},
): Promise<ServerNode> {
  if (options.port !== undefined) return await startOnPort(kind, options.port, options);
  // A port found free can be taken before the server binds it (by any process's
  // outgoing connection): then the server exits at start-up, and another port is tried.
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnPort(kind, await freePort(), options);
    } catch (error) {
      if (!(error instanceof StartupExit) || attempt === 3) throw error;
    }
  }
}

/** The server exited while starting (e.g. its port was taken). */
class StartupExit extends Error {}

async function startOnPort(
  kind: ServerKind,
  port: number,
  options: ServerOptions,
): Promise<ServerNode> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? await makeTempDir(`seastreamer-${kind.command}-`);
  const argv = [
    ...kind.args(port, dir),
    ...options.extraArgs ?? [],
    ...await options.prepare?.(dir) ?? [],
  ];
  const timeoutMs = options.timeoutMs ?? 10_000;
  let child: ChildProcess;
  let running = false;
  const launch = async () => {
    const mine = spawnProcess(kind.command, argv, {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    child = mine;
    running = true;
    let exited = false;
    mine.status.then(() => {
      exited = true;
      if (child === mine) running = false;
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await kind.answers("127.0.0.1", port, 500))) {
      if (exited) throw new StartupExit(`${kind.command} on port ${port} exited at start-up`);
      if (Date.now() > deadline) throw new Error(`${kind.command} on port ${port} did not start`);
      await sleep(50);
    }
  };
  const halt = async (signal: "SIGTERM" | "SIGKILL") => {
    if (!running) return;
    child.kill(signal);
    await Promise.race([child.status, sleep(10_000)]);
  };
  const stop = async () => {
    await halt("SIGTERM");
    if (ownDir) await remove(dir).catch(() => {});
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `${kind.scheme}://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child.pid;
    },
    kill: () => halt("SIGKILL"),
    halt: () => halt("SIGTERM"),
    async restart() {
      await halt("SIGTERM");
      await launch();
    },
    stop,
  };
}

/**
 * The server the tests use: the URL in environment variable `envName` if set,
 * else `127.0.0.1:defaultPort` if it answers, else a new one (stopped by `stop()`).
 */
export async function ensureServer(
  kind: ServerKind,
  envName: string,
  defaultPort: number,
  start: () => Promise<RunningServer>,
): Promise<RunningServer> {
  const given = getEnv(envName);
  if (given) return { url: given, stop: () => Promise.resolve() };
  if (await kind.answers("127.0.0.1", defaultPort, 2000)) {
    return { url: `${kind.scheme}://127.0.0.1:${defaultPort}`, stop: () => Promise.resolve() };
  }
  return await start();
}

/**
 * A script's command line: `run` starts a server (on the port in environment
 * variable `portEnv`, else a free one) in the foreground until Ctrl-C; `ping`
 * says whether one answers on `defaultPort`.
 */
export async function serverMain(
  kind: ServerKind,
  script: string,
  portEnv: string,
  defaultPort: number,
  start: (port: number | undefined) => Promise<ServerNode>,
): Promise<void> {
  const [command] = args();
  if (command === "run") {
    const node = await start(Number(getEnv(portEnv) ?? 0) || undefined);
    console.log(`${kind.command} on ${node.url} (data ${node.dir}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => {
      onSignal("SIGINT", () => resolve());
      onSignal("SIGTERM", () => resolve());
    });
    await node.stop();
    exit(0);
  } else if (command === "ping") {
    const answers = await kind.answers("127.0.0.1", defaultPort, 2000);
    console.log(answers ? `${kind.command} answers on 127.0.0.1:${defaultPort}` : "no answer");
    exit(answers ? 0 : 1);
  } else {
    console.error(`usage: deno run -A ${script} run|ping`);
    exit(2);
  }
}
