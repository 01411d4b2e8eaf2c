import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StreamError } from "../../types.ts";
import { formatLine, formatTimestamp, parseLine, parseTimestamp } from "./format.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const at = (iso: string) => new Date(iso + "Z");

function parse(text: string) {
  const { header, bare, payload } = parseLine(encode(text));
  return { ...header, bare, payload: decode(payload) };
}

describe("stdio line format: parseLine", () => {
  it("every optional header combination, as in SeaStreamer's parser tests", () => {
    assert.deepEqual(parse("a plain, raw message"), {
      bare: true,
      payload: "a plain, raw message",
    });
    assert.deepEqual(parse('[2022-01-02T03:04:05] { "payload": "anything" }'), {
      timestamp: at("2022-01-02T03:04:05"),
      bare: false,
      payload: '{ "payload": "anything" }',
    });
    assert.deepEqual(parse('[2022-01-02T03:04:05.678 | my-fancy_topic.1] ["array"]'), {
      timestamp: at("2022-01-02T03:04:05.678"),
      streamKey: "my-fancy_topic.1",
      bare: false,
      payload: '["array"]',
    });
    assert.deepEqual(parse("[2022-01-02T03:04:05 | my-fancy_topic.1 | 123] a string payload"), {
      timestamp: at("2022-01-02T03:04:05"),
      streamKey: "my-fancy_topic.1",
      seqNo: 123n,
      bare: false,
      payload: "a string payload",
    });
    assert.deepEqual(parse("[2022-01-02T03:04:05 | t | 123 | 4] x"), {
      timestamp: at("2022-01-02T03:04:05"),
      streamKey: "t",
      seqNo: 123n,
      shardId: 4,
      bare: false,
      payload: "x",
    });
    assert.deepEqual(parse("[t] x"), { streamKey: "t", bare: false, payload: "x" });
    assert.deepEqual(parse("[t | 123] x"), {
      streamKey: "t",
      seqNo: 123n,
      bare: false,
      payload: "x",
    });
    assert.deepEqual(parse("[t | 123 | 4] x"), {
      streamKey: "t",
      seqNo: 123n,
      shardId: 4,
      bare: false,
      payload: "x",
    });
  });

  it("sub-second timestamps of 1 to 9 digits keep milliseconds", () => {
    assert.equal(
      parse("[2022-01-01T00:00:00.1] x").timestamp?.getTime(),
      Date.UTC(2022, 0, 1, 0, 0, 0, 100),
    );
    assert.equal(
      parse("[2022-01-01T00:00:00.12] x").timestamp?.getTime(),
      Date.UTC(2022, 0, 1, 0, 0, 0, 120),
    );
    assert.equal(
      parse("[2022-01-01T00:00:00.123456789] x").timestamp?.getTime(),
      Date.UTC(2022, 0, 1, 0, 0, 0, 123),
    );
  });

  it("a number where the stream key goes is a stream key", () => {
    assert.equal(parse("[2022-01-01T00:00:00 | 123] x").streamKey, "123");
  });

  it("payload whitespace is trimmed after a header, kept on a bare line; CRLF is accepted", () => {
    assert.equal(parse("[t]    spaced out   ").payload, "spaced out");
    assert.equal(parse("  bare with spaces  ").payload, "  bare with spaces  ");
    assert.equal(parse("[t] crlf\r").payload, "crlf");
    assert.equal(parse("[t]").payload, "");
  });

  it("`[]`, `[` without `]` and non-header brackets are bare lines", () => {
    assert.equal(parse("[] x").bare, true);
    assert.equal(parse("[no closing bracket").bare, true);
    assert.equal(parse("no [header] here").bare, true);
  });

  it("malformed headers are StreamError(Backend) naming the bad part", () => {
    const bad = [
      ["[ ] x", '""'],
      ["[2022-01-01T00:00:00 | a | NaN] bad", '"NaN"'],
      ["[a | 1 | 2 | 3] x", '"3"'],
      ["[a | b] x", '"b"'],
      ["[Jan 1, 2022] x", '"Jan 1, 2022"'],
      ["[2022-13-01T00:00:00 | a] x", '"2022-13-01T00:00:00"'],
      ["[2022-02-30T00:00:00] x", '"2022-02-30T00:00:00"'],
      ["[a | 18446744073709551616] x", '"18446744073709551616"'],
      ["[a | -1] x", '"-1"'],
      ["[a | 1 | 9007199254740992] x", '"9007199254740992"'],
    ];
    for (const [line, part] of bad) {
      assert.throws(() => parseLine(encode(line)), (error: unknown) => {
        assert.ok(error instanceof StreamError, line);
        assert.equal(error.code, "Backend");
        assert.ok(error.message.includes(part), `${error.message} should name ${part}`);
        return true;
      });
    }
  });

  it("the largest u64 sequence number parses", () => {
    assert.equal(parse("[a | 18446744073709551615] x").seqNo, 18446744073709551615n);
  });

  it("a header that is not UTF-8 is malformed, a payload that is not UTF-8 is kept as bytes", () => {
    assert.throws(() => parseLine(Uint8Array.from([0x5b, 0xff, 0x5d, 0x20, 0x78])), StreamError);
    const { payload } = parseLine(Uint8Array.from([0x5b, 0x61, 0x5d, 0x20, 0xff, 0xfe]));
    assert.deepEqual(payload, Uint8Array.from([0xff, 0xfe]));
  });
});

describe("stdio line format: timestamps and printing", () => {
  it("parseTimestamp rejects what is not a calendar time", () => {
    assert.equal(parseTimestamp("2022-01-01"), undefined);
    assert.equal(parseTimestamp("2022-01-01T24:00:00"), undefined);
    assert.equal(parseTimestamp("2022-01-01T00:60:00"), undefined);
    assert.equal(parseTimestamp("2022-01-01T00:00:00Z"), undefined);
    assert.equal(parseTimestamp("2024-02-29T00:00:00")?.getTime(), Date.UTC(2024, 1, 29));
    assert.equal(parseTimestamp("2023-02-29T00:00:00"), undefined);
    assert.equal(parseTimestamp("1900-02-29T00:00:00"), undefined);
    assert.equal(parseTimestamp("2000-02-29T00:00:00")?.getTime(), Date.UTC(2000, 1, 29));
    assert.equal(parseTimestamp("2022-01-01T00:00:00.1a"), undefined);
    assert.equal(parseTimestamp("2022-01-01T00:00:00."), undefined);
    assert.equal(parseTimestamp("2022-01-01T00:00:00.1234567890"), undefined);
    assert.equal(parseTimestamp("2022-01-01 00:00:00"), undefined);
    // Years below 100 are years, not 1900 + year.
    assert.equal(parseTimestamp("0050-06-01T00:00:00")?.getUTCFullYear(), 50);
  });

  it("formatTimestamp prints milliseconds, UTC", () => {
    assert.equal(
      formatTimestamp(new Date(Date.UTC(2022, 0, 2, 3, 4, 5, 6))),
      "2022-01-02T03:04:05.006",
    );
  });

  it("formatLine output parses back to the same header and payload", () => {
    const timestamp = new Date(Date.UTC(2026, 10, 24, 12, 0, 0, 789));
    const line = formatLine(timestamp, "orders", 42n, '{"id":7}');
    assert.equal(line, '[2026-11-24T12:00:00.789 | orders | 42] {"id":7}');
    assert.deepEqual(parse(line), {
      timestamp,
      streamKey: "orders",
      seqNo: 42n,
      bare: false,
      payload: '{"id":7}',
    });
  });
});
