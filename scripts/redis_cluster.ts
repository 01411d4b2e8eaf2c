/**
 * A Redis Cluster of three masters on loopback ports, for the tests and local
 * use: three `redis-server --cluster-enabled yes` joined by
 * `redis-cli --cluster create … --cluster-yes`, each with its own temp data
 * directory, all removed by `stop()`.
 *
 * ```sh
 * deno run -A scripts/redis_cluster.ts   # a cluster in the foreground (Ctrl-C stops it)
 * ```
 *
 * @module
 */
import { exit, isMainModule, onSignal, sleep, spawnProcess } from "../runtime/mod.ts";
import { freePort, type RedisNode, startRedis } from "./redis.ts";

/** A running cluster. */
export interface RedisCluster {
  /** Every node as a seed: `redis://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  readonly url: string;
  /** The nodes (all masters). */
  readonly nodes: readonly RedisNode[];
  /** Stop every node and remove its data. */
  stop(): Promise<void>;
}

/** Run `redis-cli` with `cliArgs`; its output, or an Error with it. */
export async function redisCli(cliArgs: string[]): Promise<string> {
  const child = spawnProcess("redis-cli", cliArgs, { stdin: "ignore" });
  const [out, err, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  if (status.code !== 0) {
    throw new Error(`redis-cli ${cliArgs.join(" ")} exited ${status.code}: ${out}${err}`);
  }
  return out;
}

/** Start three cluster-enabled masters and join them; resolves once the cluster is ok. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisNode[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster bus listens on port + 10000: both must be free.
      let port = await freePort();
      while (port > 55_000) port = await freePort();
      nodes.push(
        await startRedis({
          port,
          extraArgs: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await redisCli([
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      while (
        !(await redisCli(["-p", String(node.port), "cluster", "info"])).includes(
          "cluster_state:ok",
        )
      ) {
        if (Date.now() > deadline) throw new Error("the Redis Cluster did not become ok");
        await sleep(100);
      }
    }
    return {
      url: `redis://${addresses.join(",")}`,
      nodes,
      stop: async () => {
        await Promise.all(nodes.map((node) => node.stop()));
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
}

if (isMainModule(import.meta)) {
  const cluster = await startRedisCluster();
  console.log(`Redis Cluster on ${cluster.url}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    onSignal("SIGINT", () => resolve());
    onSignal("SIGTERM", () => resolve());
  });
  await cluster.stop();
  exit(0);
}
