/**
 * NATS URLs and credentials: parsing, a user and password or a token the
 * server checks (its own nats-server), and no secret in any error, cause or
 * printout.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { parseStreamUrl, SeaStreamer, StreamError } from "../mod.ts";
import { parseNatsUri } from "../backends/nats/mod.ts";
import { type NatsNode, startNats } from "../scripts/nats.ts";
import { rejectsWith, take, uniqueName } from "./support/helpers.ts";

/** Every string reachable from `error` (message, stack, causes, their fields). */
function everything(error: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (depth > 6 || value === null || value === undefined || seen.has(value)) return;
    if (typeof value === "string") return void parts.push(value);
    if (typeof value !== "object") return;
    seen.add(value);
    if (value instanceof Error) parts.push(value.message, value.stack ?? "");
    for (const key of Object.getOwnPropertyNames(value)) {
      walk((value as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(error, 0);
  return parts.join("\n") + inspect(error, { depth: 6 });
}

describe("nats URLs", () => {
  it("parses servers, TLS, user and password, token; refuses the rest", () => {
    const uri = parseNatsUri("nats+tls://app:p%40ss@a:4443,[::1],b");
    assert.deepEqual(uri.servers, ["a:4443", "[::1]:4222", "b:4222"]);
    assert.equal(uri.tls, true);
    assert.equal(uri.user, "app");
    assert.equal(uri.pass, "p@ss");
    assert.equal(uri.redacted, "nats+tls://app:***@a:4443,[::1],b");
    const token = parseNatsUri("nats://s3cret@host");
    assert.equal(token.token, "s3cret");
    assert.equal(token.tls, false);
    assert.equal(token.redacted, "nats://***@host");
    assert.equal(parseNatsUri("tls://host").tls, true);
    for (const bad of ["nats://", "nats://host:99999", "nats://ho st", "nats://host/db"]) {
      assert.throws(
        () => parseNatsUri(bad),
        (e) => e instanceof StreamError && e.code === "StreamUrl",
      );
    }
    const stream = parseStreamUrl("nats://s3cret@host:4222/a,b.c");
    assert.deepEqual(stream.streams, ["a", "b.c"]);
    assert.throws(() => parseStreamUrl("nats://s3cret@host/bad key"), (e) => {
      assert.ok(!String((e as Error).message).includes("s3cret"));
      return true;
    });
  });
});

describe("nats credentials (its own nats-server)", () => {
  let withUser: NatsNode;
  let withToken: NatsNode;
  before(async () => {
    withUser = await startNats({ extraArgs: ["--user", "app", "--pass", "pa55word"] });
    withToken = await startNats({ extraArgs: ["--auth", "t0ken-secret"] });
  });
  after(async () => {
    await withUser?.stop();
    await withToken?.stop();
  });

  it("a user and password, and a token, in the URL are used", async () => {
    for (
      const url of [
        `nats://app:pa55word@127.0.0.1:${withUser.port}`,
        `nats://t0ken-secret@127.0.0.1:${withToken.port}`,
      ]
    ) {
      const streamer = await SeaStreamer.connect(url);
      try {
        assert.ok(!streamer.uri.includes("pa55word") && !streamer.uri.includes("t0ken-secret"));
        for (const printed of [inspect(streamer), String(streamer), JSON.stringify(streamer)]) {
          assert.ok(!printed.includes("pa55word") && !printed.includes("t0ken-secret"), printed);
        }
        const stream = uniqueName("auth");
        const consumer = await streamer.createConsumer([stream], { autoStreamReset: "earliest" });
        const producer = await streamer.createProducer(stream);
        await producer.send("hi");
        assert.equal((await take(consumer, 1))[0].payload.text(), "hi");
        assert.ok(!inspect(producer).includes("pa55word") && !inspect(consumer).includes("t0ken"));
      } finally {
        await streamer.disconnect();
      }
    }
  });

  it("a wrong password or token is Connect, with no secret anywhere in the error", async () => {
    for (
      const [url, secret] of [
        [`nats://app:wr0ng-pass@127.0.0.1:${withUser.port}`, "wr0ng-pass"],
        [`nats://wr0ng-token@127.0.0.1:${withToken.port}`, "wr0ng-token"],
        [`nats://127.0.0.1:${withUser.port}`, "pa55word"],
      ]
    ) {
      const error = await SeaStreamer.connect(url, { timeoutMs: 3000 }).catch((e) => e);
      assert.ok(error instanceof StreamError, String(error));
      assert.equal(error.code, "Connect");
      assert.ok(!everything(error).includes(secret), `${secret} in ${everything(error)}`);
    }
  });

  it("a missing credentials file is Connect", async () => {
    await rejectsWith(
      SeaStreamer.connect(`nats://127.0.0.1:${withUser.port}`, {
        nats: { credentials: "/nonexistent/app.creds" },
      }),
      "Connect",
    );
  });
});
