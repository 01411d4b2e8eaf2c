/**
 * Redis security: a redis-server of the test's own, listening with TLS
 * (certificates made by openssl: a CA and a server certificate it signed) and
 * with an ACL user. `rediss://` with the CA works, credentials come from the
 * URL, an untrusted certificate or a wrong password is `StreamError("Connect")`,
 * a forbidden key is a StreamError, and no password appears in any error's
 * message, `toString()` or cause, nor in the streamer's `uri`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { everything } from "./support/printed.ts";
import { TcpProxy } from "./support/tcp_proxy.ts";
import { type ConnectOptions, SeaStreamer, type Streamer, StreamError } from "../mod.ts";
import { type RedisNode, startRedis } from "../scripts/redis.ts";
import { recordingLogger, rejectsWith, take, texts, uniqueName } from "./support/helpers.ts";

const PASSWORD = "s3cr#t/@:x"; // characters that must be escaped in a URL
const ADMIN_PASSWORD = "admin-pw-9f3";
const encoded = encodeURIComponent(PASSWORD);

/** Every error seen: none may show a password. */
const errors: unknown[] = [];

function assertNoPassword(value: unknown): void {
  // Every field of the error and its causes (ioredis's ReplyError carries its command's
  // arguments: AUTH's are a password), and its deepest printout.
  const text = everything(value);
  for (const secret of [PASSWORD, encoded, ADMIN_PASSWORD, "wrong-pw-1"]) {
    assert.ok(!text.includes(secret), `a password shows in: ${text.slice(0, 300)}`);
  }
}

describe("redis security: TLS (rediss://), ACL users, wrong passwords", () => {
  let server: RedisNode;
  let tlsUrl: string;
  let tlsOptions: ConnectOptions;
  const streamers: Streamer[] = [];

  before(async () => {
    server = await startRedis({
      tls: true,
      extraArgs: [
        "--requirepass",
        ADMIN_PASSWORD,
        // alice may use the keys app.* only.
        "--user",
        "alice",
        "on",
        `>${PASSWORD}`,
        "~app.*",
        "&*",
        "+@all",
      ],
    });
    tlsUrl = `rediss://alice:${encoded}@127.0.0.1:${server.tlsPort}`;
    tlsOptions = { redis: { tls: { ca: server.caPem } } };
  });

  after(async () => {
    await Promise.all(streamers.map((streamer) => streamer.disconnect().catch(() => {})));
    await server?.stop();
    for (const error of errors) assertNoPassword(error);
  });

  it("rediss:// with the CA: the ACL user from the URL produces and consumes", async () => {
    const streamer = await SeaStreamer.connect(tlsUrl, tlsOptions);
    streamers.push(streamer);
    assertNoPassword(streamer.uri);
    assertNoPassword(String(streamer));
    const stream = uniqueName("app.tls");
    const consumer = await streamer.createConsumer([stream], {
      mode: "resumable",
      group: uniqueName("g"),
      autoStreamReset: "earliest",
    });
    const producer = await streamer.createProducer(stream);
    const payloads = Array.from({ length: 200 }, (_, i) => `secure ${i}`);
    await Promise.all(payloads.map((payload) => producer.send(payload)));
    await producer.flush();
    assert.deepEqual(texts(await take(consumer, payloads.length)), payloads);
    await consumer.end();
  });

  it("the TLS port speaks only TLS: redis:// to it is Connect", async () => {
    const plain = tlsUrl.replace("rediss://", "redis://");
    const error = await rejectsWith(SeaStreamer.connect(plain, { timeoutMs: 2000 }), "Connect");
    errors.push(error);
    assertNoPassword(error);
  });

  it("an untrusted certificate (no CA given) is Connect, saying why", async () => {
    const error = await rejectsWith(SeaStreamer.connect(tlsUrl, { timeoutMs: 3000 }), "Connect");
    errors.push(error);
    assert.match(error.message, /certificate|self.signed|CERT|verify/i);
    assertNoPassword(error);
  });

  it("a wrong password, an unknown user, no credentials: Connect without the password", async () => {
    const cases = [
      `rediss://alice:wrong-pw-1@127.0.0.1:${server.tlsPort}`,
      `rediss://mallory:${encoded}@127.0.0.1:${server.tlsPort}`,
      `rediss://127.0.0.1:${server.tlsPort}`,
      `redis://alice:wrong-pw-1@127.0.0.1:${server.port}`,
    ];
    for (const url of cases) {
      const options = url.startsWith("rediss:") ? tlsOptions : {};
      const error = await rejectsWith(
        SeaStreamer.connect(url, { ...options, timeoutMs: 3000 }),
        "Connect",
      );
      errors.push(error);
      assert.match(error.message, /WRONGPASS|NOAUTH|AUTH/, error.message);
      assertNoPassword(error);
    }
  });

  it("the right password over plain TCP works too (the ACL is the server's, not TLS's)", async () => {
    const streamer = await SeaStreamer.connect(
      `redis://alice:${encoded}@127.0.0.1:${server.port}`,
    );
    streamers.push(streamer);
    const producer = await streamer.createProducer(uniqueName("app.plain"));
    const receipt = await producer.send("plain");
    assert.ok(receipt.seqNo > 0n);
  });

  it("a key the user may not touch is a StreamError, the process goes on", async () => {
    const streamer = await SeaStreamer.connect(tlsUrl, tlsOptions);
    streamers.push(streamer);
    const producer = await streamer.createProducer(uniqueName("forbidden"));
    let caught: unknown;
    try {
      await producer.send("no");
      await producer.flush();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof StreamError, `expected a StreamError, got ${caught}`);
    assert.match(caught.message, /NOPERM|permission/i);
    errors.push(caught);
    assertNoPassword(caught);
    // The streamer still works for what is allowed.
    const allowed = await streamer.createProducer(uniqueName("app.ok"));
    assert.ok((await allowed.send("yes")).seqNo > 0n);
  });

  it("a dropped connection: the credentials are used again, the logger hears, no password anywhere", async () => {
    const proxy = await TcpProxy.start({ hostname: "127.0.0.1", port: server.port });
    const { logger, lines: logged } = recordingLogger();
    try {
      const streamer = await SeaStreamer.connect(
        `redis://alice:${encoded}@127.0.0.1:${proxy.port}`,
        { logger },
      );
      streamers.push(streamer);
      const stream = uniqueName("app.drop");
      const consumer = await streamer.createConsumer([stream], {
        mode: "resumable",
        group: uniqueName("g"),
        autoStreamReset: "earliest",
      });
      const producer = await streamer.createProducer(stream);
      await producer.send("before");
      assert.deepEqual(texts(await take(consumer, 1)), ["before"]);
      assert.ok(proxy.cutAll() > 0);
      await producer.send("after");
      assert.deepEqual(texts(await take(consumer, 1)), ["after"]);
      assert.ok(logged.some((line) => /reconnecting/.test(line)), logged.join("\n"));
      for (const value of [streamer, producer, consumer, logged.join("\n")]) {
        assertNoPassword(value);
      }
      await consumer.end();
      await streamer.disconnect(); // before the proxy closes: it waits for its connections
    } finally {
      await proxy.close();
    }
  });
});
