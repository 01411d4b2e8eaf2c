import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ConsumerMode,
  isStreamError,
  isValidStreamKey,
  parseStreamUrl,
  redactUri,
  StreamError,
  validateStreamKey,
} from "./types.ts";

describe("stream keys", () => {
  it("accept [a-zA-Z0-9._-]{1,249} and nothing else", () => {
    for (const key of ["a", "A.b_c-9", "x".repeat(249), "SEA_STREAMER_INTERNAL"]) {
      assert.equal(validateStreamKey(key), key);
    }
    for (const key of ["", " ", "a b", "a/b", "a:b", "é", "x".repeat(250), 5, null, undefined]) {
      assert.equal(isValidStreamKey(key), false);
      assert.throws(() => validateStreamKey(key), (e: unknown) => isStreamError(e, "StreamKey"));
    }
  });
});

describe("parseStreamUrl", () => {
  it("splits the streams after the last slash", () => {
    assert.deepEqual(parseStreamUrl("kafka://a:9092,b:9092/s1,s2"), {
      streamer: "kafka://a:9092,b:9092",
      streams: ["s1", "s2"],
    });
    assert.deepEqual(parseStreamUrl("stdio:///s1,s2"), {
      streamer: "stdio://",
      streams: ["s1", "s2"],
    });
    assert.deepEqual(parseStreamUrl("file://./data.ss/s1,s2"), {
      streamer: "file://./data.ss",
      streams: ["s1", "s2"],
    });
    assert.deepEqual(parseStreamUrl("file:///abs/path/data.ss/orders"), {
      streamer: "file:///abs/path/data.ss",
      streams: ["orders"],
    });
    assert.deepEqual(parseStreamUrl("redis://u:p@host:6379/0/orders"), {
      streamer: "redis://u:p@host:6379/0",
      streams: ["orders"],
    });
    assert.deepEqual(parseStreamUrl("redis://host:6379/"), {
      streamer: "redis://host:6379",
      streams: [],
    });
  });

  it("gives a query after the stream keys to the streamer", () => {
    assert.deepEqual(parseStreamUrl("kafka://a:9092,b:9092/s1,s2?driver=platformatic"), {
      streamer: "kafka://a:9092,b:9092?driver=platformatic",
      streams: ["s1", "s2"],
    });
    assert.deepEqual(parseStreamUrl("kafka://a:9092/?driver=platformatic"), {
      streamer: "kafka://a:9092?driver=platformatic",
      streams: [],
    });
    // A "?" before the last slash is the streamer's own business (here, part of a file name).
    assert.deepEqual(parseStreamUrl("file://./odd?name/data.ss/orders"), {
      streamer: "file://./odd?name/data.ss",
      streams: ["orders"],
    });
  });

  it("rejects URLs without protocol, without a slash, or with bad stream keys", () => {
    for (
      const url of [
        "localhost:6379/a",
        "redis://host:6379",
        "redis://host/a b",
        "redis://host/a,,b",
      ]
    ) {
      assert.throws(() => parseStreamUrl(url), (e: unknown) => isStreamError(e, "StreamUrl"), url);
    }
    assert.throws(
      () => parseStreamUrl(42 as unknown as string),
      (e: unknown) => isStreamError(e, "StreamUrl"),
    );
  });

  it("never shows a password in its errors", () => {
    try {
      parseStreamUrl("redis://user:hunter2@host:6379/bad key");
      assert.fail("should throw");
    } catch (error) {
      assert.ok(!String(error).includes("hunter2"), String(error));
      assert.ok(String(error).includes("user:***@"));
    }
  });
});

describe("redactUri", () => {
  it("replaces the password, keeps the user", () => {
    assert.equal(redactUri("redis://app:secret@host:6379/0"), "redis://app:***@host:6379/0");
    assert.equal(redactUri("rediss://:secret@host"), "rediss://:***@host");
    assert.equal(
      redactUri("kafka://user:p%40ss@a:9092,b:9092/x"),
      "kafka://user:***@a:9092,b:9092/x",
    );
    assert.equal(redactUri("redis://host:6379"), "redis://host:6379");
    assert.equal(redactUri("redis://user@host"), "redis://user@host");
  });
});

describe("StreamError", () => {
  it("carries a code and a cause, and prints the code", () => {
    const cause = new Error("inner");
    const error = new StreamError("Backend", "outer", { cause });
    assert.equal(error.code, "Backend");
    assert.equal(error.cause, cause);
    assert.equal(error.name, "StreamError");
    assert.equal(String(error), "StreamError(Backend): outer");
    assert.ok(isStreamError(error));
    assert.ok(isStreamError(error, "Backend"));
    assert.ok(!isStreamError(error, "Closed"));
    assert.ok(!isStreamError(cause));
  });

  it("ConsumerMode values are the contract's strings", () => {
    assert.deepEqual(Object.values(ConsumerMode), ["real-time", "resumable", "load-balanced"]);
  });
});
