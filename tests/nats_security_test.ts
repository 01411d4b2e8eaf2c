/**
 * NATS URLs and credentials against nats-servers of the test's own: TLS
 * (tls://, a CA made by openssl), a user and password, a token, and a
 * credentials file (operator mode: JWTs signed with nkeys), each with a wrong
 * and a right secret and through dropped connections. No secret appears in
 * any error (message, stack, causes and their fields), nor in the printout of
 * a streamer, producer or consumer, however deep (`inspect` with
 * `depth: Infinity, showHidden: true`).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ConnectOptions, parseStreamUrl, SeaStreamer, StreamError } from "../mod.ts";
import { parseNatsUri } from "../backends/nats/mod.ts";
import { type NatsNode, startNats } from "../scripts/nats.ts";
import { makeTempDir, remove } from "../runtime/mod.ts";
import { recordingLogger, take, texts, uniqueName } from "./support/helpers.ts";
import { TcpProxy } from "./support/tcp_proxy.ts";
import { everything } from "./support/printed.ts";
import { type OperatorSetup, operatorSetup } from "./support/nats_operator.ts";

const PASSWORD = "pa55/w@rd:x"; // characters a URL must escape
const TOKEN = "t0ken-s3cret";
const WRONG = ["wr0ng-pass", "wr0ng-token"];
const secrets = [PASSWORD, encodeURIComponent(PASSWORD), TOKEN, ...WRONG];

function assertNoSecret(value: unknown, what: string): void {
  const printed = everything(value);
  for (const secret of secrets) {
    assert.ok(!printed.includes(secret), `${what} shows a secret: ${printed.slice(0, 400)}`);
  }
}

/** Connecting fails with `StreamError("Connect")` that shows no secret; returns it. */
async function refused(url: string, options: ConnectOptions = {}): Promise<StreamError> {
  const error = await SeaStreamer.connect(url, { timeoutMs: 3000, ...options }).then(
    (streamer) => {
      streamer.disconnect();
      assert.fail(`${parseNatsUri(url).redacted} connected`);
    },
    (e) => e,
  );
  assert.ok(error instanceof StreamError, String(error));
  assert.equal(error.code, "Connect", String(error));
  assertNoSecret(error, `connecting to ${parseNatsUri(url).redacted}`);
  return error;
}

/**
 * Connect to `url`, produce and consume (a resumable group, committed) and
 * print everything; `proxy` given: cut every connection in between and go on
 * (the client reconnects with its credentials).
 */
async function roundTrip(url: string, options: ConnectOptions, proxy?: TcpProxy): Promise<void> {
  const { logger, lines: logged } = recordingLogger();
  const streamer = await SeaStreamer.connect(url, { logger, ...options });
  try {
    const stream = uniqueName("sec");
    const consumer = await streamer.createConsumer([stream], {
      mode: "resumable",
      group: uniqueName("g"),
      autoStreamReset: "earliest",
    });
    const producer = await streamer.createProducer(stream);
    await producer.sendBatch(["one", "two"]);
    assert.deepEqual(texts(await take(consumer, 2)), ["one", "two"]);
    if (proxy !== undefined) {
      assert.ok(proxy.cutAll() > 0, "a connection to cut");
      await producer.sendBatch(["three", "four"]);
      assert.deepEqual(texts(await take(consumer, 2)), ["three", "four"]);
      assert.ok(logged.some((line) => /connected again/.test(line)), logged.join("\n"));
    }
    assertNoSecret(logged.join("\n"), "the log");
    for (
      const [what, item] of [["streamer", streamer], ["producer", producer], ["consumer", consumer]]
    ) {
      assertNoSecret(item, `the ${what}`);
      assertNoSecret(JSON.stringify(item) ?? "", `the ${what} as JSON`);
    }
    assertNoSecret(streamer.uri, "the streamer's uri");
  } finally {
    await streamer.disconnect();
  }
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

describe("nats over TLS with a user and password (its own nats-server)", () => {
  let server: NatsNode;
  let tls: ConnectOptions;
  const url = (userInfo: string) => `tls://${userInfo}127.0.0.1:${server.port}`;
  before(async () => {
    server = await startNats({ tls: true, extraArgs: ["--user", "app", "--pass", PASSWORD] });
    tls = { nats: { tls: { ca: server.caPem } } };
  });
  after(() => server?.stop());

  it("tls:// with the CA and the right password: produce, consume, commit; nothing printed shows it", async () => {
    await roundTrip(url(`app:${encodeURIComponent(PASSWORD)}@`), tls);
  });

  it("an untrusted certificate, a plain nats:// client, a wrong or no password: Connect, no secret", async () => {
    const right = url(`app:${encodeURIComponent(PASSWORD)}@`);
    const untrusted = await refused(right);
    assert.match(untrusted.message, /certificate|self.signed|verify|CERT/i);
    // nats:// without TLS settings: the server asks for TLS, the client cannot trust it.
    await refused(right.replace("tls://", "nats://"));
    await refused(url("app:wr0ng-pass@"), tls);
    await refused(url("wr0ng-token@"), tls);
    await refused(url(""), tls);
  });
});

describe("nats user and password, and token, through connections that drop (its own nats-servers)", () => {
  let withUser: NatsNode;
  let withToken: NatsNode;
  let proxies: TcpProxy[];
  before(async () => {
    withUser = await startNats({ extraArgs: ["--user", "app", "--pass", PASSWORD] });
    withToken = await startNats({ extraArgs: ["--auth", TOKEN] });
    proxies = [
      await TcpProxy.start({ hostname: "127.0.0.1", port: withUser.port }),
      await TcpProxy.start({ hostname: "127.0.0.1", port: withToken.port }),
    ];
  });
  after(async () => {
    for (const proxy of proxies ?? []) await proxy.close();
    await withUser?.stop();
    await withToken?.stop();
  });

  it("the right secret: works, and goes on after every connection is cut; nothing printed shows it", async () => {
    const [userProxy, tokenProxy] = proxies;
    await roundTrip(
      `nats://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${userProxy.port}`,
      {},
      userProxy,
    );
    await roundTrip(`nats://${TOKEN}@127.0.0.1:${tokenProxy.port}`, {}, tokenProxy);
  });

  it("the server gone: what fails says so, with no secret", async () => {
    const [userProxy] = proxies;
    const streamer = await SeaStreamer.connect(
      `nats://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${userProxy.port}`,
      { timeoutMs: 1500 },
    );
    try {
      userProxy.refusing = true;
      userProxy.cutAll();
      const error = await streamer.describeStream(uniqueName("gone")).catch((e) => e);
      assert.ok(error instanceof StreamError, String(error));
      assertNoSecret(error, "describeStream with the server gone");
      assertNoSecret(streamer, "the streamer while reconnecting");
    } finally {
      userProxy.refusing = false;
      await streamer.disconnect();
    }
  });

  it("a wrong password or token, or none: Connect, with no secret anywhere", async () => {
    await refused(`nats://app:wr0ng-pass@127.0.0.1:${withUser.port}`);
    await refused(`nats://127.0.0.1:${withUser.port}`);
    await refused(`nats://wr0ng-token@127.0.0.1:${withToken.port}`);
    await refused(`nats://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${withToken.port}`);
  });
});

describe("nats credentials file (an operator, accounts and a user as JWTs; its own nats-server)", () => {
  let dir: string;
  let setup: OperatorSetup;
  let server: NatsNode;
  let proxy: TcpProxy;
  before(async () => {
    dir = await makeTempDir("seastreamer-nats-creds-");
    setup = await operatorSetup(dir);
    secrets.push(setup.seed, setup.strangerSeed);
    server = await startNats({ extraArgs: ["-c", setup.configFile] });
    proxy = await TcpProxy.start({ hostname: "127.0.0.1", port: server.port });
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
    if (dir) await remove(dir).catch(() => {});
  });

  it("the user's .creds: produce, consume, commit, across a cut; the seed shows nowhere", async () => {
    await roundTrip(
      `nats://127.0.0.1:${proxy.port}`,
      { nats: { credentials: setup.credsFile } },
      proxy,
    );
  });

  it("a user of an account the server does not know, no credentials, a missing file: Connect", async () => {
    const url = `nats://127.0.0.1:${server.port}`;
    await refused(url, { nats: { credentials: setup.strangerCredsFile } });
    await refused(url);
    await refused(url, { nats: { credentials: `${dir}/missing.creds` } });
  });
});
