import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseRedisUri } from "./url.ts";
import {
  idBeforeMs,
  idBeforeSeqNo,
  idOfSeqNo,
  parseId,
  parseIdBytes,
  parseIdText,
  seqNoOf,
} from "./id.ts";
import { hashSlot } from "./slot.ts";
import { StreamError } from "../../types.ts";

describe("redis URIs", () => {
  it("takes user, password, db and hosts from the URI", () => {
    const uri = parseRedisUri("redis://app:s%3Acret@cache.local:7000/3");
    assert.deepEqual(uri.hosts, [{ host: "cache.local", port: 7000 }]);
    assert.equal(uri.username, "app");
    assert.equal(uri.password, "s:cret");
    assert.equal(uri.db, 3);
    assert.equal(uri.tls, false);
    assert.equal(uri.redacted, "redis://app:***@cache.local:7000/3");
  });

  it("rediss is TLS; a password without a user; default port and db", () => {
    const uri = parseRedisUri("rediss://:pw@h");
    assert.equal(uri.tls, true);
    assert.equal(uri.username, undefined);
    assert.equal(uri.password, "pw");
    assert.deepEqual(uri.hosts, [{ host: "h", port: 6379 }]);
    assert.equal(uri.db, 0);
  });

  it("several hosts are cluster seeds", () => {
    const uri = parseRedisUri("redis://a:7000,b:7001,[::1]:7002");
    assert.deepEqual(uri.hosts, [
      { host: "a", port: 7000 },
      { host: "b", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
  });

  it("malformed URIs are StreamUrl errors that never show the password", () => {
    for (const bad of ["redis://u:secret@", "redis://h:99999", "http://h", "redis://h/x"]) {
      assert.throws(() => parseRedisUri(bad), (error: unknown) => {
        assert.ok(error instanceof StreamError);
        assert.equal(error.code, "StreamUrl");
        assert.ok(!error.message.includes("secret"));
        return true;
      });
    }
  });
});

describe("redis entry IDs", () => {
  it("seqNo is (ms << 16) | seq, both ways", () => {
    const { ms, seq } = parseId("1700000000123-7");
    assert.equal(seqNoOf(ms, seq), (1700000000123n << 16n) | 7n);
    assert.equal(idOfSeqNo(seqNoOf(ms, seq)), "1700000000123-7");
    const out = { ms: 0, seq: 0 };
    assert.ok(parseIdBytes(new TextEncoder().encode("1700000000123-7"), out));
    assert.deepEqual(out, { ms: 1700000000123, seq: 7 });
    assert.ok(!parseIdBytes(new TextEncoder().encode("12x-1"), out));
    assert.ok(!parseIdBytes(new TextEncoder().encode("12-"), out));
    assert.ok(parseIdText("42-65535", out));
    assert.deepEqual(out, { ms: 42, seq: 65535 });
    assert.ok(!parseIdText("-1", out));
    assert.ok(!parseIdText("4a-1", out));
  });

  it("positions: before a seqNo (inclusive rewind) and before a time", () => {
    assert.equal(idBeforeSeqNo((5n << 16n) | 3n), "5-2");
    assert.equal(idBeforeSeqNo(5n << 16n), "4-65535");
    assert.equal(idBeforeSeqNo(0n), "0-0");
    assert.equal(idBeforeMs(1000), "999-18446744073709551615");
    assert.equal(idBeforeMs(0), "0-0");
  });

  it("hash slots match Redis Cluster's (CRC16 XMODEM, hash tags)", () => {
    assert.equal(hashSlot("123456789"), 0x31c3 % 16384);
    assert.equal(hashSlot("foo"), 12182);
    assert.equal(hashSlot("{user1000}.following"), hashSlot("user1000"));
  });
});
