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
import { isMainModule } from "../runtime/mod.ts";
import { makeCertificates } from "./certificates.ts";
import {
  ensureServer,
  freePort,
  type RunningServer,
  serverMain,
  type ServerNode,
  startServerProcess,
  tcpAnswers,
} from "./server_process.ts";

export { freePort };

/** A running server (or one found running) and how to stop it. */
export type RunningRedis = RunningServer;

/** A server process started by {@link startRedis}. */
export interface RedisNode extends ServerNode {
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

/** Whether a Redis server answers PING on `host:port` within `ms`. */
export function redisAnswers(host: string, port: number, ms = 2000): Promise<boolean> {
  // +PONG, or -NOAUTH from a server that wants a password: either way, Redis answers.
  return tcpAnswers(
    host,
    port,
    ms,
    (reply) =>
      reply.includes("\r\n") ? reply.startsWith("+PONG") || reply.startsWith("-NOAUTH") : undefined,
    "PING\r\n",
  );
}

const kind = {
  command: "redis-server",
  scheme: "redis",
  args: (port: number, dir: string) => [
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
  ],
  answers: redisAnswers,
};

/** Start a `redis-server` on loopback; resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisNode> {
  let tls: { tlsPort: number; caPem: string } | undefined;
  const prepare = async (dir: string) => {
    const files = await makeCertificates(dir);
    tls = { tlsPort: await freePort(), caPem: files.caPem };
    return [
      "--tls-port",
      String(tls.tlsPort),
      "--tls-cert-file",
      files.certFile,
      "--tls-key-file",
      files.keyFile,
      "--tls-ca-cert-file",
      files.caFile,
      "--tls-auth-clients",
      "no",
    ];
  };
  const node = await startServerProcess(kind, {
    ...options,
    prepare: options.tls ? prepare : undefined,
  });
  return Object.assign(node, tls);
}

/**
 * The server the tests use: `REDIS_URL` if set, else 127.0.0.1:6379 if it
 * answers PING, else a new `redis-server` on a free port (stopped by `stop()`).
 */
export function ensureRedis(): Promise<RunningRedis> {
  return ensureServer(kind, "REDIS_URL", 6379, () => startRedis());
}

if (isMainModule(import.meta)) {
  await serverMain(kind, "scripts/redis.ts", "REDIS_PORT", 6379, (port) => startRedis({ port }));
}
