/**
 * The fault-injection proxy of the reliability tests, against a small echo
 * server: it forwards, cuts, stalls, delays, drops a connection half-way
 * through a write, and refuses connections while "the server is down".
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connectTcp, listenTcp, type TcpConnection, type TcpListener } from "../runtime/mod.ts";
import { timeout } from "../runtime/mod.ts";
import { isStreamError } from "../mod.ts";
import { TcpProxy } from "./support/tcp_proxy.ts";

/** An echo server: every byte received is sent back; it counts what it received. */
class EchoServer {
  received = 0;
  private constructor(readonly listener: TcpListener) {
    this.#serve();
  }

  static async start(): Promise<EchoServer> {
    return new EchoServer(await listenTcp({ hostname: "127.0.0.1", port: 0 }));
  }

  get port(): number {
    return this.listener.addr.port;
  }

  async #serve(): Promise<void> {
    for await (const conn of this.listener) {
      const counting = new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          this.received += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      conn.readable.pipeThrough(counting).pipeTo(conn.writable).catch(() => conn.close());
    }
  }
}

/** A client of the proxy that collects what comes back. */
class Client {
  readonly chunks: Uint8Array[] = [];
  /** Resolves when the connection ends: "end" (closed) or "error" (reset). */
  readonly ended: Promise<"end" | "error">;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(readonly conn: TcpConnection) {
    this.#writer = conn.writable.getWriter();
    this.ended = (async () => {
      try {
        for await (const chunk of conn.readable) this.chunks.push(chunk);
        return "end" as const;
      } catch {
        return "error" as const;
      }
    })();
  }

  static async open(port: number): Promise<Client> {
    return new Client(await connectTcp({ hostname: "127.0.0.1", port }));
  }

  get received(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, 0);
  }

  text(): string {
    const all = new Uint8Array(this.received);
    let at = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, at);
      at += chunk.byteLength;
    }
    return new TextDecoder().decode(all);
  }

  write(text: string | Uint8Array): Promise<void> {
    return this.#writer.write(typeof text === "string" ? new TextEncoder().encode(text) : text);
  }

  /** Wait until `bytes` came back (fails after `ms`). */
  async waitFor(bytes: number, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.received < bytes) {
      assert.ok(Date.now() < deadline, `got ${this.received} of ${bytes} bytes back`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.conn.close();
  }
}

describe("tcp proxy (fault injection)", () => {
  let echo: EchoServer;
  let proxy: TcpProxy;

  before(async () => {
    echo = await EchoServer.start();
    proxy = await TcpProxy.start({ hostname: "127.0.0.1", port: echo.port });
  });

  after(async () => {
    await proxy.close();
    await echo.listener.close();
  });

  it("forwards both ways, many connections at once", async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => Client.open(proxy.port)));
    const big = "x".repeat(200_000);
    await Promise.all(clients.map((client, i) => client.write(`hello ${i} ${big}`)));
    await Promise.all(clients.map((client, i) => client.waitFor(`hello ${i} ${big}`.length)));
    clients.forEach((client, i) => assert.equal(client.text(), `hello ${i} ${big}`));
    assert.ok(proxy.stats.bytesUp >= 5 * 200_000 && proxy.stats.bytesDown >= 5 * 200_000);
    for (const client of clients) client.close();
  });

  it("cutAll resets every open connection; new ones work", async () => {
    const clients = await Promise.all(Array.from({ length: 3 }, () => Client.open(proxy.port)));
    await Promise.all(clients.map((client) => client.write("ping")));
    await Promise.all(clients.map((client) => client.waitFor(4)));
    const cut = proxy.cutAll();
    assert.ok(cut >= 3, `cut ${cut}`);
    for (const client of clients) await timeout(client.ended, 5000, "the cut reaching a client");
    assert.equal(proxy.openConnections, 0);
    const fresh = await Client.open(proxy.port);
    await fresh.write("again");
    await fresh.waitFor(5);
    assert.equal(fresh.text(), "again");
    fresh.close();
  });

  it("stall holds bytes back, then delivers them all in order", async () => {
    const client = await Client.open(proxy.port);
    await client.write("a");
    await client.waitFor(1);
    proxy.stall();
    assert.ok(proxy.stalled);
    for (let i = 0; i < 10; i++) await client.write(String(i));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(client.text(), "a", "nothing passes while stalled");
    proxy.resume();
    await client.waitFor(11);
    assert.equal(client.text(), "a0123456789");
    // A timed stall resumes by itself.
    proxy.stall(200);
    const started = Date.now();
    await client.write("b");
    await client.waitFor(12);
    assert.ok(Date.now() - started >= 150, `a timed stall of 200 ms let bytes through early`);
    client.close();
  });

  it("latency delays every chunk in each direction", async () => {
    const client = await Client.open(proxy.port);
    proxy.latencyMs = 100;
    try {
      const started = Date.now();
      await client.write("slow");
      await client.waitFor(4);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 190, `a round trip through 100 ms latency took ${elapsed} ms`);
    } finally {
      proxy.latencyMs = 0;
    }
    const started = Date.now();
    await client.write("fast");
    await client.waitFor(8);
    assert.ok(Date.now() - started < 150, "without latency the round trip is quick");
    client.close();
  });

  it("dropMidWrite delivers half a write, then resets the connection", async () => {
    const client = await Client.open(proxy.port);
    const before = echo.received;
    const dropped = proxy.dropMidWrite("upstream");
    await client.write("0123456789");
    await timeout(dropped, 5000, "the drop");
    const how = await timeout(client.ended, 5000, "the reset reaching the client");
    assert.ok(how === "end" || how === "error");
    const got = echo.received - before;
    assert.equal(got, 5, `the server received ${got} of 10 bytes`);
    assert.ok(client.received <= 5, "at most the half that reached the server came back");
  });

  it("refusing closes new connections at once (a server that is down); then forwards again", async () => {
    proxy.refusing = true;
    const refusedBefore = proxy.stats.refused;
    try {
      // The reset may come before the connect completes (Node reports ECONNRESET then).
      const client = await Client.open(proxy.port).catch((error) => error as Error);
      if (client instanceof Client) {
        await client.write("x").catch(() => {});
        await timeout(client.ended, 5000, "the refusal");
        assert.equal(client.received, 0);
      } else {
        assert.ok(isStreamError(client, "Connect"), `${client}`);
      }
      assert.equal(proxy.stats.refused, refusedBefore + 1);
    } finally {
      proxy.refusing = false;
    }
    const ok = await Client.open(proxy.port);
    await ok.write("back");
    await ok.waitFor(4);
    ok.close();
  });

  it("follows a target that moved (a restarted server on a new port)", async () => {
    const other = await EchoServer.start();
    const old = proxy.target;
    proxy.target = { hostname: "127.0.0.1", port: other.port };
    try {
      const client = await Client.open(proxy.port);
      await client.write("moved");
      await client.waitFor(5);
      assert.equal(other.received, 5);
      client.close();
    } finally {
      proxy.target = old;
      await other.listener.close();
    }
  });

  it("a target that does not answer: the client's connection is closed", async () => {
    const gone = await listenTcp({ hostname: "127.0.0.1", port: 0 });
    const port = gone.addr.port;
    await gone.close();
    const dead = await TcpProxy.start({ hostname: "127.0.0.1", port });
    try {
      const client = await Client.open(dead.port);
      await timeout(client.ended, 5000, "the close");
      assert.equal(dead.stats.refused, 1);
    } finally {
      await dead.close();
    }
  });
});
