/**
 * Views between the Node `Buffer`s both Kafka clients use and the plain
 * `Uint8Array`s seastreamer hands out: the same memory, never a copy.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** `bytes` as a Buffer (itself if it is one). */
export function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `buffer` as a plain Uint8Array (a Buffer's `slice()` is a view, a Uint8Array's a copy). */
export function plainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
