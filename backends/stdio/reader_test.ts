import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Message, StreamError } from "../../types.ts";
import { parseLine } from "./format.ts";
import { LineReader } from "./reader.ts";

const encoder = new TextEncoder();

/** Every message (or error) `input` gives when cut into chunks at `cuts`. */
function readAll(input: Uint8Array, cuts: number[]): { messages: Message[]; errors: string[] } {
  const errors: string[] = [];
  const reader = new LineReader((error: StreamError) => errors.push(error.message));
  const messages: Message[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    reader.read(input.slice(start, cut), messages);
    start = cut;
  }
  reader.end(messages);
  return { messages, errors };
}

function shape(message: Message) {
  const { streamKey, shardId, seqNo, timestamp } = message.header;
  return { streamKey, shardId, seqNo, ms: timestamp.getTime(), text: message.payload.text() };
}

const KEYS = ["orders", "a.b-c_d", "x".repeat(249), "2022-01-01T00-00-00", "ü", "has space", ""];
const TIMES = [
  "2022-01-01T00:00:00",
  "2022-01-01T00:00:00.123",
  "2022-01-01T00:00:00.5",
  "2024-02-29T23:59:59.999999",
  "2023-02-29T00:00:00",
  "2022-13-01T00:00:00",
  "2022-01-01T00:00:00.",
  "2022-01-01T00:00:00.12a",
];
const NUMBERS = [
  "0",
  "7",
  "123456789012345",
  "1234567890123456789",
  "18446744073709551616",
  "+5",
  "-1",
  "x",
  "",
];

function randomLine(random: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const parts: string[] = [];
  if (random() < 0.5) parts.push(pick(TIMES));
  if (random() < 0.8) parts.push(pick(KEYS));
  if (random() < 0.6) parts.push(pick(NUMBERS));
  if (random() < 0.3) parts.push(pick(NUMBERS));
  if (random() < 0.05) parts.push(pick(NUMBERS));
  const pad = () => pick(["", " ", "  ", "\t"]);
  const header = parts.length === 0 && random() < 0.5
    ? ""
    : `[${parts.map((part) => `${pad()}${part}${pad()}`).join("|")}]`;
  return `${header}${pad()}${pick(["payload", '{"a":1}', "ünïcødé", "", " padded "])}${
    random() < 0.1 ? "\r" : ""
  }`;
}

describe("stdio LineReader", () => {
  it("reads every line as parseLine does, whatever the header, errors included", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 300; round++) {
      const lines = Array.from({ length: 20 }, () => randomLine(random));
      const { messages, errors } = readAll(encoder.encode(lines.join("\n") + "\n"), []);
      // The expectation, line by line through parseLine (the reference parser).
      const expected: ReturnType<typeof shape>[] = [];
      const counters = new Map<string, bigint>();
      let failures = 0;
      for (const line of lines) {
        let parsed;
        try {
          parsed = parseLine(encoder.encode(line));
        } catch {
          failures++;
          continue;
        }
        const streamKey = parsed.header.streamKey ?? "broadcast";
        const shardId = parsed.header.shardId ?? 0;
        const slot = `${streamKey}/${shardId}`;
        const seqNo = parsed.header.seqNo ?? counters.get(slot) ?? 0n;
        counters.set(slot, seqNo + 1n);
        expected.push({
          streamKey,
          shardId,
          seqNo,
          ms: parsed.header.timestamp?.getTime() ?? -1,
          text: new TextDecoder().decode(parsed.payload),
        });
      }
      assert.equal(errors.length, failures, `round ${round}: errors ${errors.join("; ")}`);
      assert.equal(messages.length, expected.length);
      messages.forEach((message, i) => {
        const got = shape(message);
        if (expected[i].ms === -1) got.ms = -1; // "now": not compared
        assert.deepEqual(got, expected[i], `round ${round}, message ${i}`);
      });
    }
  });

  it("gives the same messages however the input is cut into chunks", () => {
    const input = encoder.encode(
      "[2022-01-01T00:00:00.123 | orders | 5] héllo\nbare line\n[orders] next\n[refunds | 9 | 2] x\nlast",
    );
    // Lines without a timestamp are stamped when read: compare everything else.
    const parts = (messages: Message[]) => messages.map((m) => ({ ...shape(m), ms: 0 }));
    const whole = readAll(input, []).messages;
    assert.equal(whole.length, 5);
    assert.equal(whole[0].header.timestamp.toISOString(), "2022-01-01T00:00:00.123Z");
    for (let a = 0; a <= input.length; a++) {
      for (let b = a; b <= input.length; b += 7) {
        assert.deepEqual(parts(readAll(input, [a, b]).messages), parts(whole), `cut at ${a}, ${b}`);
      }
    }
  });

  it("a payload that is not UTF-8 is Utf8Error, its neighbours read as text", () => {
    const input = new Uint8Array([
      ...encoder.encode("[s] ok\n[s] "),
      0xff,
      0x0a,
      ...encoder.encode("[s] fine\n"),
    ]);
    const { messages } = readAll(input, []);
    assert.equal(messages[0].payload.text(), "ok");
    assert.throws(
      () => messages[1].payload.text(),
      (e: unknown) => (e as StreamError).code === "Utf8Error",
    );
    assert.equal(messages[2].payload.text(), "fine");
  });

  it("an over-long line is reported and dropped; the next line is read", () => {
    const errors: string[] = [];
    const reader = new LineReader((error) => errors.push(error.message), 8);
    const messages: Message[] = [];
    reader.read(encoder.encode("[s] a\n[s] this is too long"), messages);
    reader.read(encoder.encode(" still\n[s] b\n"), messages);
    assert.deepEqual(messages.map((m) => m.payload.text()), ["a", "b"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /longer than 8 bytes/);
  });
});
