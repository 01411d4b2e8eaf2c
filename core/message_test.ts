import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { BytesPayload, decodeUtf8 } from "./message.ts";
import { StreamError } from "../types.ts";

describe("payload text and bytes", () => {
  it("text holding U+FFFD decodes as it is; bytes that are not UTF-8 are Utf8Error", () => {
    const encoder = new TextEncoder();
    // A Buffer too: the Kafka clients hand out Buffers, decoded another way on Deno.
    for (const text of ["a\uFFFDb", "\uFFFD", "plain", "é € 🎉", "\uFEFFwith a BOM", ""]) {
      assert.equal(decodeUtf8(encoder.encode(text)), text);
      assert.equal(decodeUtf8(Buffer.from(text)), text);
    }
    for (const bad of [[0xff], [0x61, 0xc3], [0xed, 0xa0, 0x80], [0xef, 0xbf, 0xbd, 0xfe]]) {
      for (const bytes of [new Uint8Array(bad), Buffer.from(bad)]) {
        assert.throws(
          () => decodeUtf8(bytes),
          (error) => error instanceof StreamError && error.code === "Utf8Error",
        );
      }
    }
  });

  it("over a Buffer, bytes() is a plain Uint8Array of the same memory", () => {
    const buffer = Buffer.from("héllo");
    const payload = new BytesPayload(buffer);
    assert.equal(payload.text(), "héllo");
    assert.equal(payload.size, 6);
    const bytes = payload.bytes();
    assert.equal(bytes.constructor, Uint8Array);
    assert.equal(bytes.buffer, buffer.buffer);
    assert.equal(bytes.byteOffset, buffer.byteOffset);
    assert.equal(bytes.byteLength, 6);
    assert.equal(payload.bytes(), bytes, "made once");
    // A Uint8Array's slice is a copy (a Buffer's would be a view).
    bytes.slice(0, 1)[0] = 0;
    assert.equal(buffer[0], 0x68);
  });
});
