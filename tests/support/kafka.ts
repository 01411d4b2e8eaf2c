/**
 * Where the Kafka tests find their broker: `KAFKA_URL` (default
 * kafka://127.0.0.1:9092). A broker that does not answer fails the tests with
 * a message saying how to start one.
 *
 * @module
 */
import { connectTcp, getEnv } from "../../runtime/mod.ts";
import { parseKafkaUri } from "../../backends/kafka/mod.ts";
import * as kafkajsModule from "kafkajs";

/**
 * kafkajs's exports, for tests that build its errors. It is CommonJS: its error
 * classes are only found on the default export on every runtime.
 */
export const kafkajs = (kafkajsModule as unknown as { default?: typeof kafkajsModule }).default ??
  kafkajsModule;

/** The broker the tests use. */
export const KAFKA_URL = getEnv("KAFKA_URL") ?? "kafka://127.0.0.1:9092";

/**
 * The Kafka driver of this run: `SEASTREAMER_KAFKA_DRIVER` (which the backend itself
 * reads, so every test file and the processes they start use it), kafkajs by default.
 */
export const KAFKA_DRIVER = getEnv("SEASTREAMER_KAFKA_DRIVER") ?? "kafkajs";

let checked: Promise<void> | undefined;

/** Resolve if the first broker of {@link KAFKA_URL} accepts connections, else fail clearly. */
export function requireKafka(): Promise<void> {
  checked ??= (async () => {
    const [first] = parseKafkaUri(KAFKA_URL).brokers;
    const colon = first.lastIndexOf(":");
    try {
      const conn = await connectTcp({
        hostname: first.slice(0, colon),
        port: Number(first.slice(colon + 1)),
      });
      conn.close();
    } catch (error) {
      throw new Error(
        `no Kafka broker answers at ${KAFKA_URL} (${(error as Error).message}). ` +
          "Start one with `deno run -A scripts/kafka.ts start`, or set KAFKA_URL.",
      );
    }
  })();
  return checked;
}
