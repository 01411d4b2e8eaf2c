/**
 * TCP connections and listeners as web streams (the fault-injection proxy of the
 * tests is built on these).
 *
 * @module
 */
import * as net from "node:net";
import { StreamError } from "../types.ts";
import { webReadable, webWritable } from "./node_streams.ts";

/**
 * An open TCP connection.
 *
 * @example
 * ```ts
 * import { connectTcp, listenTcp, type TcpConnection } from "@seastreamer/seastreamer/runtime";
 *
 * const listener = await listenTcp({ hostname: "127.0.0.1", port: 0 });
 * const client: TcpConnection = await connectTcp(listener.addr);
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * for await (const server of listener) {
 *   const { value } = await server.readable.getReader().read();
 *   console.log(new TextDecoder().decode(value)); // ping
 *   server.close();
 *   break;
 * }
 * client.close();
 * await listener.close();
 * ```
 */
export interface TcpConnection {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; each write resolves once handed to the OS. */
  readonly writable: WritableStream<Uint8Array>;
  /** The peer's address. */
  readonly remoteAddr: { hostname: string; port: number };
  /** Close both directions at once (a reset, as a cut cable would). */
  close(): void;
}

/**
 * A listening TCP socket.
 *
 * @example
 * ```ts
 * import { connectTcp, listenTcp, type TcpListener } from "@seastreamer/seastreamer/runtime";
 *
 * const listener: TcpListener = await listenTcp({ hostname: "127.0.0.1", port: 0 });
 * const client = await connectTcp(listener.addr);
 * for await (const connection of listener) {
 *   console.log(connection.remoteAddr.hostname); // 127.0.0.1
 *   connection.close();
 *   break;
 * }
 * client.close();
 * await listener.close();
 * ```
 */
export interface TcpListener extends AsyncIterable<TcpConnection> {
  /** The address it listens on (the port the OS chose, if 0 was asked for). */
  readonly addr: { hostname: string; port: number };
  /** Stop listening; open connections stay open. */
  close(): Promise<void>;
}

function wrapSocket(socket: net.Socket): TcpConnection {
  return {
    readable: webReadable(socket),
    writable: webWritable(socket),
    remoteAddr: { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
    close() {
      if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
      else socket.destroy();
    },
  };
}

/**
 * Connect to `hostname:port`. A refused or unreachable address is `StreamError("Connect")`.
 *
 * @example
 * ```ts ignore
 * import { connectTcp } from "@seastreamer/seastreamer/runtime";
 *
 * const conn = await connectTcp({ hostname: "127.0.0.1", port: 6379 });
 * conn.close();
 * ```
 */
export function connectTcp(
  address: { hostname: string; port: number },
): Promise<TcpConnection> {
  return new Promise((resolve, reject) => {
    // Half-open: closing our writable sends FIN and leaves the readable open, as TCP allows.
    const socket = net.connect({ host: address.hostname, port: address.port, allowHalfOpen: true });
    socket.setNoDelay(true);
    const onError = (error: Error) => {
      socket.destroy();
      reject(
        new StreamError(
          "Connect",
          `cannot connect to ${address.hostname}:${address.port}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(wrapSocket(socket));
    });
  });
}

/**
 * Listen on `hostname:port` (port 0: any free port). Iterate the listener for connections.
 *
 * @example
 * ```ts
 * import { listenTcp } from "@seastreamer/seastreamer/runtime";
 *
 * const listener = await listenTcp({ hostname: "127.0.0.1", port: 0 });
 * console.log(listener.addr.port > 0); // true
 * await listener.close();
 * ```
 */
export function listenTcp(address: { hostname: string; port: number }): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true });
    const pending: TcpConnection[] = [];
    const waiters: ((value: IteratorResult<TcpConnection>) => void)[] = [];
    let closed = false;
    server.on("connection", (socket) => {
      socket.setNoDelay(true);
      const conn = wrapSocket(socket);
      const waiter = waiters.shift();
      if (waiter) waiter({ value: conn, done: false });
      else pending.push(conn);
    });
    server.once("error", (error) =>
      reject(
        new StreamError(
          "Runtime",
          `cannot listen on ${address.hostname}:${address.port}: ${error.message}`,
          { cause: error },
        ),
      ));
    server.listen(address.port, address.hostname, () => {
      const bound = server.address() as net.AddressInfo;
      resolve({
        addr: { hostname: bound.address, port: bound.port },
        close() {
          closed = true;
          for (const waiter of waiters.splice(0)) waiter({ value: undefined, done: true });
          return new Promise((done) => server.close(() => done()));
        },
        [Symbol.asyncIterator]() {
          return {
            next(): Promise<IteratorResult<TcpConnection>> {
              const conn = pending.shift();
              if (conn) return Promise.resolve({ value: conn, done: false });
              if (closed) return Promise.resolve({ value: undefined, done: true });
              return new Promise((resolve) => waiters.push(resolve));
            },
          };
        },
      });
    });
  });
}
