/**
 * The sockets kafkajs uses, handing its `data` listener whole Kafka frames
 * only (a 4-byte size, then that many bytes).
 *
 * Why: kafkajs keeps its receive buffer on the connection object, not on the
 * socket, and does not clear it when it reconnects. A connection cut in the
 * middle of a response left the first bytes of that response buffered; the
 * new socket's bytes were appended to them, so every later response was
 * misread ("Response without match", then an uncaught
 * `RangeError: Attempt to access memory outside buffer bounds` from the data
 * handler, or a wait for bytes that never come). Seen with the fault-injection
 * tests (tests/kafka_fault_test.ts), most often on Bun. A partial frame now
 * dies with its socket.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as net from "node:net";
import * as tls from "node:tls";
import type { ISocketFactory } from "kafkajs";

/** kafkajs's default keep-alive delay, ms. */
const KEEP_ALIVE_DELAY = 60_000;

/**
 * A `data` listener that is called with whole frames only (several at once when
 * they arrived together). Chunks are joined once a frame is complete, not on
 * each arrival: a 1 MiB fetch response comes in 16 or more chunks.
 */
export function wholeFrames(listener: (data: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer[] = [];
  let buffered = 0;
  /** Where the first pending frame ends (0: not known yet, its size has not all arrived). */
  let needed = 0;
  return (chunk) => {
    pending.push(chunk);
    buffered += chunk.length;
    if (needed === 0 && buffered >= 4) needed = 4 + sizeAtStart(pending);
    if (needed === 0 || buffered < needed) return;
    const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending, buffered);
    // The end of the last whole frame.
    let end = needed;
    while (end + 4 <= bytes.length) {
      const next = end + 4 + frameSize(bytes, end);
      if (next > bytes.length) break;
      end = next;
    }
    pending = end < bytes.length ? [bytes.subarray(end)] : [];
    buffered = bytes.length - end;
    needed = buffered >= 4 ? 4 + frameSize(bytes, end) : 0;
    listener(end === bytes.length ? bytes : bytes.subarray(0, end));
  };
}

/**
 * The size of the frame at `at`. A negative size (a broken stream) counts as 0:
 * the frame is handed on and kafkajs reports it, rather than this looping.
 */
function frameSize(bytes: Buffer, at: number): number {
  return Math.max(0, bytes.readInt32BE(at));
}

/** The size of the frame at the start of `chunks` (which hold at least 4 bytes). */
function sizeAtStart(chunks: readonly Buffer[]): number {
  const head = chunks[0].length >= 4 ? chunks[0] : Buffer.concat(chunks.slice(0, 4));
  return frameSize(head, 0);
}

/** kafkajs's socket factory (plain or TLS, keep-alive), with {@link wholeFrames} on `data`. */
export const framedSocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect(
      { host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl },
      onConnect,
    )
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY);
  const on = socket.on.bind(socket);
  socket.on =
    ((event: string, listener: (...args: unknown[]) => void) =>
      event === "data"
        ? on("data", wholeFrames(listener as (data: Buffer) => void))
        : on(event, listener)) as typeof socket.on;
  return socket;
};
