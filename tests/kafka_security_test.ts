/**
 * SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and TLS against a broker this test
 * starts with those listeners (127.0.0.1:19292-19295), on each runtime: kafkajs
 * authenticates with node:crypto and encrypts with node:tls, which Deno and Bun
 * provide in their own ways.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ConnectOptions, SeaStreamer } from "../mod.ts";
import { type KafkaNode, startKafka } from "../scripts/kafka.ts";
import { rejectsWith, take, texts, uniqueName } from "./support/helpers.ts";

const PORT = 19292;
const SASL = "kafka://127.0.0.1:19294";
const SSL = "kafka://127.0.0.1:19295";
const USERS = { alice: "alice-s3cret" };

async function roundTrip(url: string, options: ConnectOptions): Promise<void> {
  const streamer = await SeaStreamer.connect(url, options);
  try {
    const topic = uniqueName("sec");
    const consumer = await streamer.createConsumer([topic]);
    const producer = await streamer.createProducer(topic);
    await producer.send("secret message");
    assert.deepEqual(texts(await take(consumer, 1)), ["secret message"]);
  } finally {
    await streamer.disconnect();
  }
}

describe("kafka security", () => {
  let broker: KafkaNode | undefined;
  before(async () => {
    broker = await startKafka({
      port: PORT,
      security: { saslPort: 19294, sslPort: 19295, users: USERS },
    });
  });
  after(async () => {
    await broker?.stop();
  });

  for (const mechanism of ["plain", "scram-sha-256", "scram-sha-512"] as const) {
    it(`SASL ${mechanism}`, async () => {
      await roundTrip(SASL, {
        kafka: { sasl: { mechanism, username: "alice", password: USERS.alice } },
      });
    });
  }

  it("SASL PLAIN credentials in the URL", async () => {
    await roundTrip(`kafka://alice:${USERS.alice}@127.0.0.1:19294`, {});
  });

  it("a wrong password is Connect, and the password is in no message", async () => {
    const error = await rejectsWith(
      SeaStreamer.connect(SASL, {
        timeoutMs: 8000,
        kafka: { sasl: { mechanism: "scram-sha-256", username: "alice", password: "wr0ng-pw" } },
      }),
      "Connect",
    );
    assert.doesNotMatch(String(error), /wr0ng-pw/);
    const inUrl = await rejectsWith(
      SeaStreamer.connect("kafka://alice:wr0ng-pw@127.0.0.1:19294", { timeoutMs: 8000 }),
      "Connect",
    );
    assert.doesNotMatch(String(inUrl), /wr0ng-pw/);
  });

  it("TLS with the broker's certificate trusted", async () => {
    await roundTrip(SSL, { kafka: { tls: { ca: broker!.caPem! } } });
  });

  it("TLS refuses a certificate nobody trusts", async () => {
    await rejectsWith(
      SeaStreamer.connect(SSL, { timeoutMs: 3000, kafka: { tls: true } }),
      "Connect",
    );
  });
});
