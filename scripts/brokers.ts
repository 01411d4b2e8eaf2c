/**
 * Starts the brokers the tests need and tells the tests where they are
 * (environment variables); stops what it started.
 *
 * @module
 */
import { ensureKafka } from "./kafka.ts";

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
  const kafka = await ensureKafka();
  return { env: { KAFKA_URL: kafka.url }, stop: () => kafka.stop() };
}
