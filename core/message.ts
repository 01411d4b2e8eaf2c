/**
 * The concrete message and payload types every backend delivers.
 *
 * @module
 */
import {
  type Message,
  type MessageHeader,
  type Payload,
  type PayloadInput,
  StreamError,
} from "../types.ts";
import { decodeUtf8Lenient, plainView, utf8Length } from "../runtime/bytes.ts";

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * Decode `bytes` as UTF-8, or throw `StreamError("Utf8Error")` naming the first bad byte.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  // Deno's fatal decoder is three times slower than its lenient one (370 against 130 ns
  // for 256 bytes; on Node and Bun they are alike): decode leniently, and strictly only
  // when the text holds a replacement character, which a bad byte or a real U+FFFD leaves.
  const text = decodeUtf8Lenient(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strictDecoder.decode(bytes);
  } catch (error) {
    throw new StreamError(
      "Utf8Error",
      `payload of ${bytes.byteLength} bytes is not valid UTF-8`,
      { cause: error },
    );
  }
}

/**
 * Throw `StreamError("Utf8Error")` unless `bytes` is valid UTF-8 (a fast path
 * for ASCII, which most payloads are, then a full decode).
 */
export function assertUtf8(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      decodeUtf8(bytes);
      return;
    }
  }
}

/** Encode `text` as UTF-8. */
export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** The size in bytes of a payload once written: a string's UTF-8, bytes as they are. */
export function payloadSize(payload: PayloadInput): number {
  return typeof payload === "string" ? utf8Length(payload) : payload.byteLength;
}

/**
 * The bytes of a payload given to `send`: strings as UTF-8, bytes as they are;
 * anything else is `StreamError("Unsupported")`.
 */
export function payloadBytes(input: PayloadInput): Uint8Array {
  if (typeof input === "string") return utf8Encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  const kind = input === null ? "null" : typeof input;
  throw new StreamError(
    "Unsupported",
    `a payload is a string or a Uint8Array, not ${kind}`,
  );
}

/** `bytes` in base64 (for printing payloads that are not text). */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** `text` parsed as JSON, or `StreamError("Json")`. */
export function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new StreamError("Json", `payload is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** A payload over a byte view; decoding happens on demand. */
export class BytesPayload implements Payload {
  #bytes: Uint8Array;

  /**
   * Wrap `bytes` (not copied). They may be of a subclass (a client library's
   * Node `Buffer`): `bytes()` then gives a plain `Uint8Array` over the same
   * memory, made only when asked for (most consumers read `text()`).
   */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Length in bytes. */
  get size(): number {
    return this.#bytes.byteLength;
  }

  /** The payload as UTF-8 text; `StreamError("Utf8Error")` if it is not. */
  text(): string {
    return decodeUtf8(this.#bytes);
  }

  /** The payload's bytes (a view). */
  bytes(): Uint8Array {
    const bytes = this.#bytes;
    if (bytes.constructor === Uint8Array) return bytes;
    // A Buffer's slice() is a view where a Uint8Array's is a copy: hand out the plain kind.
    return this.#bytes = plainView(bytes);
  }

  /** The payload parsed as JSON; `StreamError("Utf8Error" | "Json")` if it cannot be. */
  json<T = unknown>(): T {
    return parseJson<T>(this.text());
  }
}

/** A delivered message: a header and a payload. */
export class StreamMessage implements Message {
  /** Where it sits. */
  readonly header: MessageHeader;
  /** What it carries. */
  readonly payload: BytesPayload;

  /** A message with `header` over `bytes` (not copied). */
  constructor(header: MessageHeader, bytes: Uint8Array) {
    this.header = header;
    this.payload = new BytesPayload(bytes);
  }
}

/** A header object (receipts and messages share the shape). */
export function header(
  streamKey: string,
  shardId: number,
  seqNo: bigint,
  timestamp: Date,
): MessageHeader {
  return { streamKey, shardId, seqNo, timestamp };
}
