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
import type { Buffer } from "node:buffer";
import * as net from "node:net";
import * as tls from "node:tls";
import type { ISocketFactory } from "kafkajs";

/** kafkajs's default keep-alive delay, ms. */
const KEEP_ALIVE_DELAY = 60_000;

/**
 * A `data` listener that is called only once whole frames have arrived: then
 * with every chunk up to the end of the last whole frame, one call each, in one
 * go (the last chunk cut at that end). A frame cut short never reaches it.
 * The chunks are not joined here: kafkajs joins them once a response is
 * complete, and joining them first made it copy each response twice (a fetch
 * response of 1 MiB per partition comes in 16 or more chunks).
 */
export function wholeFrames(listener: (data: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer[] = [];
  let buffered = 0;
  /** Where the first pending frame ends (0: not known yet, its size has not all arrived). */
  let needed = 0;
  return (chunk) => {
    pending.push(chunk);
    buffered += chunk.length;
    if (needed === 0 && buffered >= 4) needed = 4 + frameSize(pending, 0);
    if (needed === 0 || buffered < needed) return;
    // The end of the last whole frame.
    let end = needed;
    while (end + 4 <= buffered) {
      const next = end + 4 + frameSize(pending, end);
      if (next > buffered) break;
      end = next;
    }
    const chunks = pending;
    const whole: Buffer[] = [];
    pending = [];
    let at = 0;
    for (const piece of chunks) {
      if (at + piece.length <= end) {
        whole.push(piece);
      } else if (at >= end) {
        pending.push(piece);
      } else {
        whole.push(piece.subarray(0, end - at));
        pending.push(piece.subarray(end - at));
      }
      at += piece.length;
    }
    buffered -= end;
    needed = buffered >= 4 ? 4 + frameSize(pending, 0) : 0;
    for (const piece of whole) listener(piece);
  };
}

/**
 * The size of the frame starting `at` bytes into `chunks` (which hold its 4
 * size bytes). A negative size (a broken stream) counts as 0: the frame is
 * handed on and kafkajs reports it, rather than this looping.
 */
function frameSize(chunks: readonly Buffer[], at: number): number {
  let i = 0;
  while (at >= chunks[i].length) at -= chunks[i++].length;
  if (at + 4 <= chunks[i].length) return Math.max(0, chunks[i].readInt32BE(at));
  let size = 0;
  for (let n = 0; n < 4; n++, at++) {
    while (at >= chunks[i].length) at -= chunks[i++].length;
    size = size * 256 + chunks[i][at];
  }
  return size >= 2 ** 31 ? 0 : size;
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
