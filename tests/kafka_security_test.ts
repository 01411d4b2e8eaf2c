/**
 * SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and TLS against a broker this test
 * starts with those listeners (127.0.0.1:19292-19295), on each runtime: kafkajs
 * authenticates with node:crypto and encrypts with node:tls, which Deno and Bun
 * provide in their own ways.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ConnectOptions, SeaStreamer, StreamError } from "../mod.ts";
import { type KafkaNode, startKafka } from "../scripts/kafka.ts";
import { recordingLogger, rejectsWith, take, texts, uniqueName } from "./support/helpers.ts";
import { everything } from "./support/printed.ts";
import { TcpProxy } from "./support/tcp_proxy.ts";

const PORT = 19292;
const SASL = "kafka://127.0.0.1:19294";
const SSL = "kafka://127.0.0.1:19295";
const USERS = { alice: "alice-s3cret" };

/** No password in anything `value` shows: its fields, causes, stack and deepest printout. */
function assertNoSecret(value: unknown): void {
  const printed = everything(value);
  for (const secret of [USERS.alice, "wr0ng-pw"]) {
    assert.ok(!printed.includes(secret), `a password shows in: ${printed.slice(0, 400)}`);
  }
}

async function roundTrip(url: string, options: ConnectOptions): Promise<void> {
  const { logger, lines: logged } = recordingLogger();
  const streamer = await SeaStreamer.connect(url, { logger, ...options });
  try {
    const topic = uniqueName("sec");
    const consumer = await streamer.createConsumer([topic]);
    const producer = await streamer.createProducer(topic);
    await producer.send("secret message");
    assert.deepEqual(texts(await take(consumer, 1)), ["secret message"]);
    for (const item of [streamer, producer, consumer, streamer.uri]) assertNoSecret(item);
    // The client's own log (connects, the group joined) went to the logger, without a secret.
    assert.ok(logged.some((line) => /^kafka: /.test(line)), logged.join("\n"));
    assertNoSecret(logged.join("\n"));
  } finally {
    await streamer.disconnect();
  }
}

describe("kafka security", () => {
  let broker: KafkaNode | undefined;
  // The SASL listener advertises this proxy: after the first request, every
  // SASL client goes through it (kafkajs connects where the metadata says).
  let proxy: TcpProxy | undefined;
  before(async () => {
    proxy = await TcpProxy.start({ hostname: "127.0.0.1", port: 19294 });
    broker = await startKafka({
      port: PORT,
      security: { saslPort: 19294, sslPort: 19295, users: USERS, saslAdvertisedPort: proxy.port },
    });
  });
  after(async () => {
    await broker?.stop();
    await proxy?.close();
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
    assertNoSecret(error);
    const inUrl = await rejectsWith(
      SeaStreamer.connect("kafka://alice:wr0ng-pw@127.0.0.1:19294", { timeoutMs: 8000 }),
      "Connect",
    );
    assertNoSecret(inUrl);
  });

  it("a dropped connection: the client signs in again, the logger hears, no password anywhere", async () => {
    const { logger, lines: logged } = recordingLogger();
    const streamer = await SeaStreamer.connect(
      `kafka://alice:${USERS.alice}@127.0.0.1:${proxy!.port}`,
      { logger },
    );
    try {
      const topic = uniqueName("drop");
      const consumer = await streamer.createConsumer([topic], {
        mode: "resumable",
        group: uniqueName("g"),
        autoStreamReset: "earliest",
      });
      const producer = await streamer.createProducer(topic);
      await producer.send("before");
      assert.deepEqual(texts(await take(consumer, 1)), ["before"]);
      assert.ok(proxy!.cutAll() > 0);
      await producer.send("after");
      assert.deepEqual(texts(await take(consumer, 1)), ["after"]);
      // The SASL listener takes no connection without signing in: "after" came on a new one,
      // and the logger heard the drop (kafkajs: "Connection error", platformatic: "disconnect").
      assert.ok(
        logged.some((line) => /Connection error|broker:disconnect/.test(line)),
        logged.join("\n"),
      );
      // Out of reach: what fails says so, without the password.
      proxy!.refusing = true;
      proxy!.cutAll();
      const failure = await streamer.describeStream(topic).then(() => undefined, (error) => error);
      proxy!.refusing = false;
      assert.ok(failure instanceof StreamError, String(failure));
      for (const value of [streamer, producer, consumer, failure, logged.join("\n")]) {
        assertNoSecret(value);
      }
      await consumer.end();
    } finally {
      await streamer.disconnect();
    }
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
