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
import { isMainModule } from "../runtime/mod.ts";
import { makeCertificates } from "./certificates.ts";
import {
  ensureServer,
  type RunningServer,
  serverMain,
  type ServerNode,
  startServerProcess,
  tcpAnswers,
} from "./server_process.ts";

/** A running server (or one found running) and how to stop it. */
export type RunningNats = RunningServer;

/** A server process started by {@link startNats}. */
export interface NatsNode extends ServerNode {
  /** With the `tls` option: the PEM certificate of the CA that signed the server's certificate. */
  readonly caPem?: string;
}

/** Options of {@link startNats}. */
export interface StartNatsOptions {
  /** Port (default: a free one). */
  port?: number;
  /** Extra `nats-server` arguments, e.g. `["--user", "app", "--pass", "secret"]`. */
  extraArgs?: string[];
  /** How long start-up may take, ms (default 10,000). */
  timeoutMs?: number;
  /**
   * Require TLS of every client, with a certificate for 127.0.0.1 signed by a
   * CA made by `openssl` ({@link NatsNode.caPem}).
   */
  tls?: boolean;
}

/** Whether a NATS server greets (`INFO {…}`) on `host:port` within `ms`. */
export function natsAnswers(host: string, port: number, ms = 2000): Promise<boolean> {
  return tcpAnswers(
    host,
    port,
    ms,
    (reply) => reply.length < 4 ? undefined : reply.startsWith("INFO"),
  );
}

const kind = {
  command: "nats-server",
  scheme: "nats",
  args: (port: number, dir: string) => ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)],
  answers: natsAnswers,
};

/** Start a `nats-server -js` on loopback; resolves once it greets. */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsNode> {
  let caPem: string | undefined;
  const prepare = async (dir: string) => {
    const files = await makeCertificates(dir);
    caPem = files.caPem;
    return ["--tls", "--tlscert", files.certFile, "--tlskey", files.keyFile];
  };
  const node = await startServerProcess(kind, {
    ...options,
    prepare: options.tls ? prepare : undefined,
  });
  return Object.assign(node, { caPem });
}

/**
 * The server the tests use: `NATS_URL` if set, else 127.0.0.1:4222 if it
 * greets, else a new `nats-server -js` on a free port (stopped by `stop()`).
 */
export function ensureNats(): Promise<RunningNats> {
  return ensureServer(kind, "NATS_URL", 4222, () => startNats());
}

if (isMainModule(import.meta)) {
  await serverMain(kind, "scripts/nats.ts", "NATS_PORT", 4222, (port) => startNats({ port }));
}
