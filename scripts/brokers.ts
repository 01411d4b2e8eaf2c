/**
 * Starts the brokers the tests need and tells the tests where they are
 * (environment variables); stops what it started.
 *
 * @module
 */
import { ensureKafka } from "./kafka.ts";
import { ensureRedis } from "./redis.ts";
import { ensureNats } from "./nats.ts";

/** Running brokers: the environment that points tests at them, and how to stop them. */
export interface Brokers {
  /** Variables for the test processes (REDIS_URL, KAFKA_URL…). */
  env: Record<string, string>;
  /** Stop the brokers this run started (not ones that were already running). */
  stop(): Promise<void>;
}

/** Start (or find) every broker a backend on this branch needs. */
export async function startBrokers(): Promise<Brokers> {
  // The stdio and file backends need no server. Kafka: KAFKA_URL, a broker already
  // on 127.0.0.1:9092, or one started from its Maven jars (scripts/kafka.ts).
  // Redis: REDIS_URL, a server answering PING on 127.0.0.1:6379, or a redis-server
  // started on a free port (scripts/redis.ts). NATS: NATS_URL, a server on
  // 127.0.0.1:4222, or a nats-server -js started on a free port (scripts/nats.ts).
  const redis = await ensureRedis();
  let kafka;
  let nats;
  try {
    nats = await ensureNats();
    kafka = await ensureKafka();
  } catch (error) {
    await Promise.all([redis.stop(), nats?.stop()]);
    throw error;
  }
  return {
    env: { KAFKA_URL: kafka.url, REDIS_URL: redis.url, NATS_URL: nats.url },
    stop: async () => {
      await Promise.all([kafka.stop(), redis.stop(), nats.stop()]);
    },
  };
}
