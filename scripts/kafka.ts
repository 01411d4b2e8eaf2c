/**
 * A real Apache Kafka broker (KRaft mode, combined broker + controller) for the
 * tests, CI and users without Docker: the broker's jars are resolved from Maven
 * Central with `mvn dependency:copy-dependencies` into a cache folder outside the
 * repository, storage is formatted in a fresh temp directory, and the broker runs
 * on the machine's Java 17 with a small heap.
 *
 * From code: {@link ensureKafka} (KAFKA_URL, or a broker already answering on
 * 127.0.0.1:9092, or a new one), {@link startKafka}, {@link startKafkaCluster}.
 * From the shell:
 *
 * ```sh
 * deno run -A scripts/kafka.ts start     # a broker on 127.0.0.1:9092, in the background
 * deno run -A scripts/kafka.ts stop      # stop it
 * deno run -A scripts/kafka.ts run       # a broker in the foreground (Ctrl-C stops it)
 * deno run -A scripts/kafka.ts cluster   # 3 brokers on 19092, 19094, 19096 (foreground)
 * deno run -A scripts/kafka.ts jars      # only resolve the jars; print their folder
 * ```
 *
 * Environment: `KAFKA_VERSION` (default {@link KAFKA_VERSION}), `KAFKA_URL`,
 * `JAVA_HOME`, `XDG_CACHE_HOME`.
 *
 * @module
 */
import {
  args,
  connectTcp,
  exit,
  getEnv,
  isMainModule,
  joinPath,
  makeDir,
  makeTempDir,
  onSignal,
  printError,
  readFile,
  remove,
  signalProcess,
  sleep,
  spawnProcess,
  stat,
  writeFile,
} from "../runtime/mod.ts";

/** The Kafka version started unless `KAFKA_VERSION` says otherwise. */
export const KAFKA_VERSION = "3.9.2";

/** The logging binding added to the broker's classpath (its POM brings none). */
const SLF4J_SIMPLE = "1.7.36";
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/** A running broker (or cluster) and how to stop it. */
export interface RunningKafka {
  /** Where it listens, as a seastreamer URL: `kafka://127.0.0.1:9092`. */
  readonly url: string;
  /** Stop what this call started (nothing, if it found a broker already running). */
  stop(): Promise<void>;
}

/** One broker process started by this module. */
export interface KafkaNode extends RunningKafka {
  /** Its KRaft node id. */
  readonly nodeId: number;
  /** Its client port. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** Its data directory (logs, broker.log). */
  readonly dataDir: string;
  /** Stop it with SIGKILL, as a crash would (no clean shutdown). */
  kill(): Promise<void>;
  /**
   * Stop it cleanly and start it again on the same ports with the same data (its
   * topics, offsets and groups stay); resolves once it answers again.
   */
  restart(): Promise<void>;
  /** Whether it is still running. */
  readonly running: boolean;
  /** The PEM certificate of its SSL listener, if it has one. */
  readonly caPem?: string;
}

/** Options of {@link startKafka}. */
export interface StartKafkaOptions {
  /** Client port (default 9092). */
  port?: number;
  /** Controller port (default port + 1). */
  controllerPort?: number;
  /**
   * The client port the broker tells clients to use (its advertised listener;
   * default `port`): a fault-injection proxy's port, so that clients, which
   * connect to the address the metadata gives, go through the proxy.
   */
  advertisedPort?: number;
  /** Heap size in MiB (default 512). */
  heapMb?: number;
  /** Extra server.properties entries. */
  properties?: Record<string, string | number | boolean>;
  /** Keep running after this process exits (the `start` command). */
  detached?: boolean;
  /** How long start-up may take, ms (default 90,000). */
  timeoutMs?: number;
  /**
   * Also listen with authentication and encryption, for security tests: a
   * SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for `users`)
   * and an SSL listener with a self-signed certificate made by `keytool`
   * ({@link KafkaNode.caPem} holds it, for clients to trust). The SASL listener
   * tells clients to use `saslAdvertisedPort` (default `saslPort`): a proxy's
   * port, for a test that cuts the connections of an authenticated client.
   */
  security?: {
    saslPort: number;
    sslPort: number;
    users: Record<string, string>;
    saslAdvertisedPort?: number;
  };
}

/** The Kafka version to run. */
export function kafkaVersion(): string {
  return getEnv("KAFKA_VERSION") ?? KAFKA_VERSION;
}

/** The cache folder for `version`'s jars, outside the repository. */
export function cacheDir(version = kafkaVersion()): string {
  const base = getEnv("XDG_CACHE_HOME") ?? joinPath(getEnv("HOME") ?? "/tmp", ".cache");
  return joinPath(base, "seastreamer", `kafka-${version}`);
}

function javaCommand(): string {
  const home = getEnv("JAVA_HOME");
  return home ? joinPath(home, "bin", "java") : "java";
}

/** Run a command to completion; its output, or an Error with that output. */
async function runCommand(
  command: string,
  commandArgs: string[],
  what: string,
): Promise<string> {
  const child = spawnProcess(command, commandArgs, { stdin: "ignore" });
  const [out, err, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  if (status.code !== 0) {
    throw new Error(`${what} failed (exit ${status.code ?? status.signal}):\n${out}\n${err}`);
  }
  return out + err;
}

/**
 * Resolve the broker's jars for `version` (once: later calls find them in the
 * cache); the folder holding them.
 */
export async function resolveKafkaJars(version = kafkaVersion()): Promise<string> {
  const dir = cacheDir(version);
  const libs = joinPath(dir, "libs");
  const marker = joinPath(libs, ".complete");
  if (await stat(marker)) return libs;
  await makeDir(dir);
  await writeFile(
    joinPath(dir, "pom.xml"),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>seastreamer</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${version}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>${SLF4J_SIMPLE}</version>
    </dependency>
  </dependencies>
</project>
`,
  );
  await remove(libs);
  printError(`resolving Apache Kafka ${version} jars from Maven Central into ${libs} …`);
  await runCommand("mvn", [
    "-B",
    "-q",
    "-f",
    joinPath(dir, "pom.xml"),
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    "-DincludeScope=runtime",
    `-DoutputDirectory=${libs}`,
  ], "mvn copy-dependencies");
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return libs;
}

/** A random KRaft cluster id: 16 bytes, URL-safe base64 without padding. */
function clusterId(): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    // The storage tool would read a leading "-" as an option.
    if (!id.startsWith("-")) return id;
  }
}

/** A request frame: size, api key, version, correlation id 1, null client id, then `body`. */
function kafkaRequest(apiKey: number, version: number, body: number[] = []): Uint8Array {
  const frame = new Uint8Array(4 + 10 + body.length);
  const view = new DataView(frame.buffer);
  view.setInt32(0, frame.length - 4);
  view.setInt16(4, apiKey);
  view.setInt16(6, version);
  view.setInt32(8, 1);
  view.setInt16(12, -1);
  frame.set(body, 14);
  return frame;
}

/** ApiVersions v0: the smallest thing a Kafka broker answers. */
const API_VERSIONS_REQUEST = kafkaRequest(18, 0);
/** Metadata v1 for no topics: the brokers the cluster has registered. */
const METADATA_REQUEST = kafkaRequest(3, 1, [0, 0, 0, 0]);

/** Send one request to `host:port`; its response body (after the size), or undefined. */
async function kafkaResponse(
  host: string,
  port: number,
  request: Uint8Array,
  ms: number,
): Promise<Uint8Array | undefined> {
  let conn;
  try {
    conn = await connectTcp({ hostname: host, port });
  } catch {
    return undefined;
  }
  const reader = conn.readable.getReader();
  const timer = setTimeout(() => conn.close(), ms);
  try {
    const writer = conn.writable.getWriter();
    await writer.write(request);
    writer.releaseLock();
    let received = new Uint8Array(0);
    while (received.length < 4 || received.length < 4 + readInt32(received, 0)) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      const joined = new Uint8Array(received.length + value.byteLength);
      joined.set(received);
      joined.set(value, received.length);
      received = joined;
    }
    return received.subarray(4, 4 + readInt32(received, 0));
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
    conn.close();
  }
}

function readInt32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at);
}

/** Whether a Kafka broker answers on `host:port` within `ms`. */
export async function kafkaAnswers(host: string, port: number, ms = 2000): Promise<boolean> {
  return (await kafkaResponse(host, port, API_VERSIONS_REQUEST, ms)) !== undefined;
}

/** How many brokers the broker on `host:port` knows to be registered (0 if it does not answer). */
async function registeredBrokers(host: string, port: number, ms = 2000): Promise<number> {
  const body = await kafkaResponse(host, port, METADATA_REQUEST, ms);
  // Correlation id, then the brokers array's length.
  return body && body.length >= 8 ? readInt32(body, 4) : 0;
}

function propertiesText(properties: Record<string, string | number | boolean>): string {
  return Object.entries(properties).map(([key, value]) => `${key}=${value}`).join("\n") + "\n";
}

interface NodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
  advertisedPort?: number;
  voters: string;
  replication: number;
  heapMb: number;
  properties: Record<string, string | number | boolean>;
  detached: boolean;
  security?: StartKafkaOptions["security"];
}

/** A self-signed certificate for 127.0.0.1/localhost in a PKCS12 keystore; its PEM. */
async function makeKeystore(dir: string, password: string): Promise<string> {
  const home = getEnv("JAVA_HOME");
  const keytool = home ? joinPath(home, "bin", "keytool") : "keytool";
  const keystore = joinPath(dir, "broker.p12");
  await runCommand(keytool, [
    "-genkeypair",
    "-alias",
    "broker",
    "-keyalg",
    "RSA",
    "-keysize",
    "2048",
    "-dname",
    "CN=localhost",
    "-ext",
    "SAN=ip:127.0.0.1,dns:localhost",
    "-validity",
    "7",
    "-storetype",
    "PKCS12",
    "-keystore",
    keystore,
    "-storepass",
    password,
    "-keypass",
    password,
  ], "making a keystore");
  const output = await runCommand(keytool, [
    "-exportcert",
    "-rfc",
    "-alias",
    "broker",
    "-keystore",
    keystore,
    "-storepass",
    password,
  ], "exporting the certificate");
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output);
  if (!pem) throw new Error(`keytool printed no certificate:\n${output}`);
  return pem[0] + "\n";
}

/** The settings of the security listeners, the storage tool's SCRAM users, the certificate. */
async function securitySetup(
  spec: NodeSpec,
  dataDir: string,
): Promise<{ properties: Record<string, string | number>; formatArgs: string[]; caPem?: string }> {
  const security = spec.security;
  if (!security) return { properties: {}, formatArgs: [] };
  const password = "seastreamer-test";
  const caPem = await makeKeystore(dataDir, password);
  const plainUsers = Object.entries(security.users)
    .map(([name, secret]) => `user_${name}="${secret}"`).join(" ");
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return {
    caPem,
    properties: {
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config":
        `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
      "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": scram,
      "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": scram,
      "listener.name.ssl.ssl.keystore.location": joinPath(dataDir, "broker.p12"),
      "listener.name.ssl.ssl.keystore.password": password,
      "listener.name.ssl.ssl.key.password": password,
      "listener.name.ssl.ssl.keystore.type": "PKCS12",
    },
    formatArgs: Object.entries(security.users).flatMap(([name, secret]) => [
      "--add-scram",
      `SCRAM-SHA-256=[name=${name},password=${secret}]`,
      "--add-scram",
      `SCRAM-SHA-512=[name=${name},password=${secret}]`,
    ]),
  };
}

/** Format storage for one node and start it (without waiting for it to answer). */
async function launchNode(
  libs: string,
  spec: NodeSpec,
  id: string,
  formatted?: { dataDir: string; caPem?: string },
): Promise<LaunchedNode> {
  if (formatted) return startNodeProcess(spec, formatted.dataDir, libs, formatted.caPem);
  const dataDir = await makeTempDir(`seastreamer-kafka-${spec.port}-`);
  const config = joinPath(dataDir, "server.properties");
  const security = await securitySetup(spec, dataDir);
  const secure = spec.security;
  const extra = (saslPort: number | undefined) =>
    secure ? `,SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${secure.sslPort}` : "";
  await writeFile(
    config,
    propertiesText({
      "process.roles": "broker,controller",
      "node.id": spec.nodeId,
      "controller.quorum.voters": spec.voters,
      "listeners":
        `PLAINTEXT://127.0.0.1:${spec.port},CONTROLLER://127.0.0.1:${spec.controllerPort}${
          extra(secure?.saslPort)
        }`,
      "advertised.listeners": `PLAINTEXT://127.0.0.1:${spec.advertisedPort ?? spec.port}${
        extra(secure?.saslAdvertisedPort ?? secure?.saslPort)
      }`,
      "inter.broker.listener.name": "PLAINTEXT",
      "controller.listener.names": "CONTROLLER",
      "listener.security.protocol.map":
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
      ...security.properties,
      "log.dirs": joinPath(dataDir, "data"),
      "num.partitions": 1,
      "default.replication.factor": spec.replication,
      "min.insync.replicas": 1,
      "offsets.topic.replication.factor": spec.replication,
      "offsets.topic.num.partitions": 1,
      "transaction.state.log.replication.factor": spec.replication,
      "transaction.state.log.min.isr": 1,
      "transaction.state.log.num.partitions": 1,
      // Groups start at once (tests make many); the default waits 3 s for more members.
      "group.initial.rebalance.delay.ms": 0,
      "auto.create.topics.enable": true,
      ...spec.properties,
    }),
  );
  await runCommand(javaCommand(), [
    "-Xmx256m",
    ...loggingArgs(dataDir),
    "-cp",
    `${libs}/*`,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    id,
    "-c",
    config,
    ...security.formatArgs,
  ], "formatting Kafka storage");
  return startNodeProcess(spec, dataDir, libs, security.caPem);
}

/** A broker process launched by {@link launchNode}. */
interface LaunchedNode {
  dataDir: string;
  pid: number;
  exited: () => boolean;
  status: Promise<unknown>;
  caPem?: string;
}

function loggingArgs(dataDir: string): string[] {
  return [
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
    `-Dorg.slf4j.simpleLogger.logFile=${joinPath(dataDir, "broker.log")}`,
  ];
}

/** Start the broker process of a formatted data directory. */
function startNodeProcess(
  spec: NodeSpec,
  dataDir: string,
  libs: string,
  caPem: string | undefined,
): LaunchedNode {
  const config = joinPath(dataDir, "server.properties");
  const classpath = `${libs}/*`;
  const logging = loggingArgs(dataDir);
  const child = spawnProcess(javaCommand(), [
    `-Xms${Math.min(256, spec.heapMb)}m`,
    `-Xmx${spec.heapMb}m`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    ...logging,
    "-cp",
    classpath,
    "kafka.Kafka",
    config,
  ], { stdin: "ignore", stdout: "ignore", stderr: "ignore", detached: spec.detached });
  let exited = false;
  const status = child.status.finally(() => exited = true);
  status.catch(() => {});
  return { dataDir, pid: child.pid, exited: () => exited, status, caPem };
}

async function logTail(dataDir: string): Promise<string> {
  const log = await readFile(joinPath(dataDir, "broker.log")).catch(() => undefined);
  if (!log) return "(no broker.log)";
  const lines = new TextDecoder().decode(log).trimEnd().split("\n");
  return lines.slice(-30).join("\n");
}

/** Wait until the node answers, or fail with its log's last lines. */
async function waitForNode(
  port: number,
  node: { dataDir: string; exited: () => boolean },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await kafkaAnswers("127.0.0.1", port, 1000))) {
    if (node.exited()) {
      throw new Error(
        `the Kafka broker on port ${port} exited during start-up; ${node.dataDir}/broker.log:\n${await logTail(
          node.dataDir,
        )}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the Kafka broker on port ${port} did not answer within ${timeoutMs} ms; ${node.dataDir}/broker.log:\n${await logTail(
          node.dataDir,
        )}`,
      );
    }
    await sleep(200);
  }
}

/** Stop process `pid`: SIGTERM (clean shutdown), SIGKILL after `graceMs`. */
async function stopProcess(pid: number, graceMs = 30_000): Promise<void> {
  if (!signalProcess(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (signalProcess(pid, 0)) {
    if (Date.now() > deadline) {
      signalProcess(pid, "SIGKILL");
      await sleep(200);
      return;
    }
    await sleep(100);
  }
}

function makeNode(
  spec: NodeSpec,
  first: LaunchedNode,
  libs: string,
): KafkaNode {
  let launched = first;
  let stopping: Promise<void> | undefined;
  const finish = async (graceMs: number) => {
    if (!launched.exited()) {
      await stopProcess(launched.pid, graceMs);
      // Wait for our child's exit to be seen (a zombie still answers signal 0 until reaped).
      await Promise.race([launched.status, sleep(5000)]);
    }
    await remove(launched.dataDir).catch(() => {});
  };
  return {
    url: `kafka://127.0.0.1:${spec.advertisedPort ?? spec.port}`,
    nodeId: spec.nodeId,
    port: spec.port,
    get pid() {
      return launched.pid;
    },
    dataDir: launched.dataDir,
    caPem: launched.caPem,
    get running() {
      return !launched.exited();
    },
    stop() {
      stopping ??= finish(30_000);
      return stopping;
    },
    kill() {
      stopping ??= finish(0);
      return stopping;
    },
    async restart() {
      if (stopping) throw new Error(`the broker on port ${spec.port} was stopped`);
      if (!launched.exited()) {
        await stopProcess(launched.pid, 30_000);
        await Promise.race([launched.status, sleep(5000)]);
      }
      launched = await launchNode(libs, spec, "", launched);
      await waitForNode(spec.port, launched, 90_000);
    },
  };
}

/**
 * Start one broker (combined broker + controller) on 127.0.0.1:`port` with a
 * fresh data directory, and wait until it answers.
 *
 * @example
 * ```ts ignore
 * import { startKafka } from "./kafka.ts";
 *
 * const broker = await startKafka({ port: 9092 });
 * console.log(broker.url); // kafka://127.0.0.1:9092
 * await broker.stop();
 * ```
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaNode> {
  const port = options.port ?? 9092;
  const spec: NodeSpec = {
    nodeId: 1,
    port,
    controllerPort: options.controllerPort ?? port + 1,
    advertisedPort: options.advertisedPort,
    voters: `1@127.0.0.1:${options.controllerPort ?? port + 1}`,
    replication: 1,
    heapMb: options.heapMb ?? 512,
    properties: options.properties ?? {},
    detached: options.detached ?? false,
    security: options.security,
  };
  const libs = await resolveKafkaJars();
  const launched = await launchNode(libs, spec, clusterId());
  const node = makeNode(spec, launched, libs);
  try {
    await waitForNode(port, launched, options.timeoutMs ?? 90_000);
  } catch (error) {
    await node.kill();
    throw error;
  }
  return node;
}

/** A 3-broker cluster started by {@link startKafkaCluster}. */
export interface KafkaCluster extends RunningKafka {
  /** Its brokers, in node id order. */
  readonly nodes: readonly KafkaNode[];
}

/**
 * Start a cluster of `size` (default 3) brokers, each broker + controller, on
 * 127.0.0.1 ports 19092/19093, 19094/19095, 19096/19097 (from `basePort`);
 * topics are replicated to all of them by default. Resolves once every broker answers.
 */
export async function startKafkaCluster(
  options: { size?: number; basePort?: number; heapMb?: number; timeoutMs?: number } = {},
): Promise<KafkaCluster> {
  const size = options.size ?? 3;
  const basePort = options.basePort ?? 19092;
  const ports = Array.from({ length: size }, (_, i) => basePort + 2 * i);
  const voters = ports.map((port, i) => `${i + 1}@127.0.0.1:${port + 1}`).join(",");
  const libs = await resolveKafkaJars();
  const id = clusterId();
  const specs: NodeSpec[] = ports.map((port, i) => ({
    nodeId: i + 1,
    port,
    controllerPort: port + 1,
    voters,
    replication: Math.min(3, size),
    heapMb: options.heapMb ?? 384,
    properties: {
      "min.insync.replicas": Math.min(2, size),
      // Notice a dead broker within seconds (the default session is 9 s).
      "broker.session.timeout.ms": 4000,
      "broker.heartbeat.interval.ms": 500,
    },
    detached: false,
  }));
  const launched = await Promise.all(specs.map((spec) => launchNode(libs, spec, id)));
  const nodes = specs.map((spec, i) => makeNode(spec, launched[i], libs));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  const timeoutMs = options.timeoutMs ?? 120_000;
  try {
    // Each node waits for a quorum of controllers, so they come up together.
    await Promise.all(specs.map((spec, i) => waitForNode(spec.port, launched[i], timeoutMs)));
    // A broker answers before the controller has registered all of them; until then
    // a topic replicated to every broker cannot be created.
    const deadline = Date.now() + timeoutMs;
    for (const port of ports) {
      while ((await registeredBrokers("127.0.0.1", port)) < size) {
        if (Date.now() > deadline) {
          throw new Error(`the broker on port ${port} did not see all ${size} brokers registered`);
        }
        await sleep(200);
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill()));
    throw error;
  }
  return {
    url: `kafka://${ports.map((port) => `127.0.0.1:${port}`).join(",")}`,
    nodes,
    stop,
  };
}

/**
 * A broker for the tests: `KAFKA_URL` if set; else one already answering on
 * 127.0.0.1:9092; else a new one started there (which `stop()` stops).
 */
export async function ensureKafka(): Promise<RunningKafka> {
  const given = getEnv("KAFKA_URL");
  if (given) return { url: given, stop: () => Promise.resolve() };
  if (await kafkaAnswers("127.0.0.1", 9092)) {
    return { url: "kafka://127.0.0.1:9092", stop: () => Promise.resolve() };
  }
  return await startKafka({ port: 9092 });
}

const PID_FILE = () => joinPath(cacheDir(), "broker.pid");

async function commandStart(): Promise<void> {
  if (await kafkaAnswers("127.0.0.1", 9092)) {
    console.log("a Kafka broker already answers on kafka://127.0.0.1:9092");
    return;
  }
  const node = await startKafka({ port: 9092, detached: true });
  await writeFile(PID_FILE(), JSON.stringify({ pid: node.pid, dataDir: node.dataDir }));
  console.log(`Kafka ${kafkaVersion()} on ${node.url} (pid ${node.pid}, data ${node.dataDir})`);
  console.log("stop it with: deno run -A scripts/kafka.ts stop");
}

async function commandStop(): Promise<void> {
  const saved = await readFile(PID_FILE());
  if (!saved) {
    console.log("no broker started by `scripts/kafka.ts start` is known");
    return;
  }
  const { pid, dataDir } = JSON.parse(new TextDecoder().decode(saved));
  await stopProcess(pid);
  await remove(dataDir);
  await remove(PID_FILE());
  console.log(`stopped the Kafka broker (pid ${pid})`);
}

async function untilSignal(): Promise<void> {
  await new Promise<void>((resolve) => {
    const offs = [onSignal("SIGINT", () => resolve()), onSignal("SIGTERM", () => resolve())];
    void offs;
  });
}

async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case "start":
      await commandStart();
      return 0;
    case "stop":
      await commandStop();
      return 0;
    case "run": {
      const node = await startKafka({ port: 9092 });
      console.log(`Kafka ${kafkaVersion()} on ${node.url}; Ctrl-C stops it`);
      await untilSignal();
      await node.stop();
      return 0;
    }
    case "cluster": {
      const cluster = await startKafkaCluster();
      console.log(`Kafka ${kafkaVersion()} cluster on ${cluster.url}; Ctrl-C stops it`);
      await untilSignal();
      await cluster.stop();
      return 0;
    }
    case "jars":
      console.log(await resolveKafkaJars());
      return 0;
    default:
      printError("usage: scripts/kafka.ts start | stop | run | cluster | jars");
      return 2;
  }
}

if (isMainModule(import.meta)) {
  try {
    exit(await main(args()));
  } catch (error) {
    printError(`scripts/kafka.ts: ${(error as Error).message}`);
    exit(1);
  }
}
