/**
 * A fault-injection TCP proxy for the reliability tests (test support, not
 * shipped): it forwards connections from its own port to a target and, on
 * demand, cuts every connection, stalls (holds bytes back for a while), adds
 * latency, drops a connection half-way through a write, or refuses new
 * connections (a server that is down). Built on runtime/net.ts, so it runs
 * the same on Deno, Node and Bun.
 *
 * @module
 */
import {
  connectTcp,
  listenTcp,
  sleep,
  type TcpConnection,
  type TcpListener,
} from "../../runtime/mod.ts";

/** Where a proxy forwards to. */
export interface ProxyTarget {
  /** The target's host. */
  hostname: string;
  /** The target's port. */
  port: number;
}

/** Which way bytes flow: from the client to the target, or back. */
export type Direction = "upstream" | "downstream";

/** Counts of what the proxy did, for test reports. */
export interface ProxyStats {
  /** Connections accepted from clients. */
  accepted: number;
  /** Connections refused (while {@link TcpProxy.refusing}, or the target did not answer). */
  refused: number;
  /** Connections cut by {@link TcpProxy.cutAll} or {@link TcpProxy.dropMidWrite}. */
  cut: number;
  /** Bytes forwarded client → target. */
  bytesUp: number;
  /** Bytes forwarded target → client. */
  bytesDown: number;
}

/** One client connection and the connection to the target made for it. */
class Pair {
  #closed = false;
  constructor(readonly client: TcpConnection, readonly server: TcpConnection) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Reset both sides, as a cut cable would. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.client.close();
    this.server.close();
  }
}

/** A pending "drop the next write half-way" request. */
interface DropRequest {
  direction: Direction | undefined;
  done: () => void;
}

/**
 * The proxy. Start with {@link TcpProxy.start}; clients connect to
 * `127.0.0.1:{@link TcpProxy.port}`.
 *
 * @example
 * ```ts ignore
 * const proxy = await TcpProxy.start({ hostname: "127.0.0.1", port: 6379 });
 * proxy.cutAll();             // every open connection is reset
 * proxy.stall(2000);          // nothing flows for 2 s
 * proxy.latencyMs = 50;       // each chunk waits 50 ms
 * await proxy.close();
 * ```
 */
export class TcpProxy {
  /** Where connections are forwarded to (may be changed, e.g. after a server restart). */
  target: ProxyTarget;
  /** Delay added to every chunk forwarded, in each direction, ms. */
  latencyMs = 0;
  /** While true, new connections are accepted and closed at once, as a server that is down. */
  refusing = false;
  /** What the proxy did so far. */
  readonly stats: ProxyStats = { accepted: 0, refused: 0, cut: 0, bytesUp: 0, bytesDown: 0 };
  readonly #listener: TcpListener;
  readonly #pairs = new Set<Pair>();
  #stalled: Promise<void> | undefined;
  #resume: (() => void) | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #drop: DropRequest | undefined;
  #accepting: Promise<void>;

  private constructor(listener: TcpListener, target: ProxyTarget) {
    this.#listener = listener;
    this.target = target;
    this.#accepting = this.#accept();
  }

  /** Listen on 127.0.0.1:`port` (0: any free port) and forward to `target`. */
  static async start(target: ProxyTarget, port = 0): Promise<TcpProxy> {
    const listener = await listenTcp({ hostname: "127.0.0.1", port });
    return new TcpProxy(listener, target);
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.#pairs.size;
  }

  /** Whether forwarding is stalled. */
  get stalled(): boolean {
    return this.#stalled !== undefined;
  }

  /** Reset every open connection (both sides); returns how many were cut. */
  cutAll(): number {
    const count = this.#pairs.size;
    for (const pair of [...this.#pairs]) this.#cut(pair);
    return count;
  }

  /**
   * Stop forwarding in both directions: connections stay open, bytes wait.
   * With `ms`, forwarding resumes after that long; else at {@link resume}.
   */
  stall(ms?: number): void {
    if (!this.#stalled) this.#stalled = new Promise((resolve) => this.#resume = resolve);
    clearTimeout(this.#stallTimer);
    if (ms !== undefined) this.#stallTimer = setTimeout(() => this.resume(), ms);
  }

  /** Forward again after {@link stall}. */
  resume(): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    const resume = this.#resume;
    this.#stalled = undefined;
    this.#resume = undefined;
    resume?.();
  }

  /**
   * The next chunk forwarded (in `direction`, or either) is cut in two: its
   * first half is delivered, then the connection is reset. Resolves once done.
   */
  dropMidWrite(direction?: Direction): Promise<void> {
    return new Promise((done) => this.#drop = { direction, done });
  }

  /** Stop listening and reset every connection. */
  async close(): Promise<void> {
    this.resume();
    await this.#listener.close();
    for (const pair of [...this.#pairs]) pair.close();
    this.#pairs.clear();
    await this.#accepting;
  }

  #cut(pair: Pair): void {
    if (pair.closed) return;
    this.stats.cut++;
    pair.close();
    this.#pairs.delete(pair);
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      this.stats.accepted++;
      if (this.refusing) {
        this.stats.refused++;
        client.close();
        continue;
      }
      this.#open(client).catch(() => {});
    }
  }

  async #open(client: TcpConnection): Promise<void> {
    let server: TcpConnection;
    try {
      server = await connectTcp(this.target);
    } catch {
      this.stats.refused++;
      client.close();
      return;
    }
    if (this.refusing) {
      // Refusing began while the target answered: this one is refused too.
      this.stats.refused++;
      client.close();
      server.close();
      return;
    }
    const pair = new Pair(client, server);
    this.#pairs.add(pair);
    const up = this.#pump(pair, client.readable, server.writable, "upstream");
    const down = this.#pump(pair, server.readable, client.writable, "downstream");
    await Promise.all([up, down]);
    pair.close();
    this.#pairs.delete(pair);
  }

  /** Copy `from` to `to`, applying stalls, latency and drops; an error on either side resets both. */
  async #pump(
    pair: Pair,
    from: ReadableStream<Uint8Array>,
    to: WritableStream<Uint8Array>,
    direction: Direction,
  ): Promise<void> {
    const reader = from.getReader();
    const writer = to.getWriter();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        while (this.#stalled) await this.#stalled;
        if (this.latencyMs > 0) await sleep(this.latencyMs);
        while (this.#stalled) await this.#stalled;
        if (pair.closed) return;
        const drop = this.#drop;
        if (drop && (drop.direction ?? direction) === direction && value.byteLength >= 2) {
          this.#drop = undefined;
          await writer.write(value.subarray(0, value.byteLength >> 1));
          this.#count(direction, value.byteLength >> 1);
          // Let the half reach the peer before the reset.
          await sleep(20);
          this.#cut(pair);
          drop.done();
          return;
        }
        await writer.write(value);
        this.#count(direction, value.byteLength);
      }
      // The sender closed its side: pass the FIN on (half-close), keep the other way open.
      await writer.close();
    } catch {
      this.#cut(pair);
    } finally {
      reader.releaseLock();
      writer.releaseLock();
    }
  }

  #count(direction: Direction, bytes: number): void {
    if (direction === "upstream") this.stats.bytesUp += bytes;
    else this.stats.bytesDown += bytes;
  }
}
