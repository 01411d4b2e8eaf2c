/**
 * Generated bad input (seeded, repeatable; FUZZ_SEED replays a run): every case
 * ends in a value or a StreamError with a code, never a hang, a crash or an
 * unhandled rejection. 10,000+ cases per target.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  isValidStreamKey,
  parseStreamUrl,
  redactUri,
  SeaStreamer,
  StreamError,
  validateStreamKey,
} from "../mod.ts";
import { formatLine, parseLine } from "../backends/stdio/mod.ts";
import { BytesPayload } from "../core/message.ts";
import { Random, seed } from "./support/random.ts";

const CASES = 10_000;
const encoder = new TextEncoder();

/** Run `body`; anything thrown must be a StreamError with a code. */
function valueOrStreamError<T>(what: string, input: unknown, body: () => T): T | StreamError {
  try {
    return body();
  } catch (error) {
    assert.ok(
      error instanceof StreamError && typeof error.code === "string",
      `${what}(${JSON.stringify(String(input)).slice(0, 200)}) threw ${error} (seed ${seed})`,
    );
    return error;
  }
}

const LINE_PIECES = [
  "[",
  "]",
  " | ",
  "|",
  "2022-01-01T00:00:00",
  "2022-13-45T99:99:99",
  ".123",
  "orders",
  "a.b-c_d",
  "12",
  "-1",
  "18446744073709551616",
  "NaN",
  " ",
  "\r",
  "é",
  "\u0000",
  "{}",
  "payload",
];

describe(`fuzz (seed ${seed})`, () => {
  it("stdio parseLine: random and mutated lines", () => {
    const random = new Random(seed);
    let parsed = 0;
    for (let i = 0; i < CASES; i++) {
      let line: Uint8Array;
      const kind = random.int(3);
      if (kind === 0) line = random.bytes(random.int(80));
      else if (kind === 1) {
        let text = "";
        for (let p = random.int(8); p >= 0; p--) text += random.pick(LINE_PIECES);
        line = encoder.encode(text);
      } else {
        const valid = formatLine(new Date(random.int(2 ** 41)), "s", BigInt(random.int(1e6)), "p");
        line = random.mutate(encoder.encode(valid));
      }
      const result = valueOrStreamError("parseLine", line, () => parseLine(line));
      if (!(result instanceof StreamError)) {
        parsed++;
        const { header, payload } = result;
        if (header.streamKey !== undefined) assert.ok(isValidStreamKey(header.streamKey));
        if (header.seqNo !== undefined) assert.ok(header.seqNo >= 0n && header.seqNo < 2n ** 64n);
        if (header.timestamp !== undefined) assert.ok(!Number.isNaN(header.timestamp.getTime()));
        assert.ok(payload.byteLength <= line.byteLength);
      } else {
        assert.equal(result.code, "Backend");
      }
    }
    assert.ok(parsed > 0 && parsed < CASES, "both outcomes occur");
  });

  it("stdio streamer: random byte input never stops the flow of good lines", async () => {
    const random = new Random(seed + 1);
    const chunks: Uint8Array[] = [];
    let good = 0;
    for (let i = 0; i < CASES; i++) {
      if (random.int(2) === 0) {
        chunks.push(encoder.encode(`[fz | ${good}] ok ${good}\n`));
        good++;
      } else {
        // Garbage that cannot contain a line break, so it stays one bad or bare line.
        const junk = random.bytes(random.int(40)).map((b) => (b === 10 ? 32 : b));
        chunks.push(Uint8Array.from([...junk, 10]));
      }
    }
    const errors: StreamError[] = [];
    const streamer = await SeaStreamer.connect("stdio://", {
      stdio: {
        input: ReadableStream.from(chunks),
        output: new WritableStream(),
        onParseError: (error) => errors.push(error),
      },
    });
    const consumer = await streamer.createConsumer(["fz"]);
    const received: string[] = [];
    for await (const message of consumer) {
      if (message.header.streamKey === "fz") received.push(message.payload.text());
    }
    await streamer.disconnect();
    assert.deepEqual(received, Array.from({ length: good }, (_, i) => `ok ${i}`));
    for (const error of errors) assert.equal(error.code, "Backend");
  });

  it("parseStreamUrl, validateStreamKey and redactUri: random strings", () => {
    const random = new Random(seed + 2);
    const alphabet = "abcXYZ019._-/:@,% \u00e9?#[]\\\u0000";
    for (let i = 0; i < CASES; i++) {
      const text = random.pick(["redis://", "kafka://", "file://", "stdio://", "", "x:/"]) +
        random.string(random.int(30), alphabet);
      const url = valueOrStreamError("parseStreamUrl", text, () => parseStreamUrl(text));
      if (url instanceof StreamError) assert.equal(url.code, "StreamUrl");
      else for (const key of url.streams) assert.ok(isValidStreamKey(key));
      const key = valueOrStreamError("validateStreamKey", text, () => validateStreamKey(text));
      if (key instanceof StreamError) assert.equal(key.code, "StreamKey");
      const secret = "pw" + random.string(8, "abcdef0123456789");
      const redacted = redactUri(`redis://user:${secret}@${text}`);
      assert.ok(!redacted.includes(secret), `${redacted} shows the password`);
    }
  });

  it("payload text() and json(): random bytes are a value or Utf8Error/Json", () => {
    const random = new Random(seed + 3);
    for (let i = 0; i < CASES; i++) {
      const bytes = random.int(2) === 0
        ? random.bytes(random.int(24))
        : random.mutate(encoder.encode(JSON.stringify({ a: [1, "é", null] })));
      const payload = new BytesPayload(bytes);
      const text = valueOrStreamError("text", bytes, () => payload.text());
      if (text instanceof StreamError) assert.equal(text.code, "Utf8Error");
      const json = valueOrStreamError("json", bytes, () => payload.json());
      if (json instanceof StreamError) assert.ok(json.code === "Utf8Error" || json.code === "Json");
    }
  });

  it("SeaStreamer.connect: random URIs are a streamer or a StreamError, never a crash", async () => {
    const random = new Random(seed + 4);
    for (let i = 0; i < 2000; i++) {
      const uri = random.pick(["stdio:", "stdio://", "gopher://", "", "STDIO://"]) +
        random.string(random.int(6), "/:@x ");
      try {
        const streamer = await SeaStreamer.connect(uri, {
          stdio: { input: ReadableStream.from([]), output: new WritableStream() },
        });
        await streamer.disconnect();
      } catch (error) {
        assert.ok(error instanceof StreamError, `${uri}: ${error}`);
      }
    }
  });
});
