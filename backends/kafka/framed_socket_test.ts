/** kafkajs's data listener gets whole Kafka frames only, however the bytes are cut. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { wholeFrames } from "./framed_socket.ts";
import { Random } from "../../tests/support/random.ts";

function frame(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

describe("kafka: whole frames to kafkajs", () => {
  it("random cuts of a stream of frames: the listener sees exactly the frames, each whole", () => {
    const random = new Random(7);
    for (let round = 0; round < 200; round++) {
      const frames = Array.from(
        { length: 1 + random.int(20) },
        () => frame(random.bytes(random.int(300))),
      );
      const stream = Buffer.concat(frames);
      const seen: Buffer[] = [];
      const feed = wholeFrames((data) => seen.push(Buffer.from(data)));
      for (let at = 0; at < stream.length;) {
        const size = 1 + random.int(64);
        feed(stream.subarray(at, at + size));
        at += size;
      }
      const all = Buffer.concat(seen);
      assert.deepEqual(all, stream);
      // Every call ends on a frame boundary.
      for (const data of seen) {
        let at = 0;
        while (at < data.length) at += 4 + data.readInt32BE(at);
        assert.equal(at, data.length);
      }
    }
  });

  it("a frame cut short is never handed on (it dies with its socket)", () => {
    const seen: Buffer[] = [];
    const feed = wholeFrames((data) => seen.push(data));
    const whole = frame(new Uint8Array([1, 2, 3]));
    feed(Buffer.concat([whole, frame(new Uint8Array(100)).subarray(0, 50)]));
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0], whole);
  });

  it("a 1 MiB frame in 64 KiB chunks is handed on once, whole, after its last chunk", () => {
    const big = frame(new Random(3).bytes(1 << 20));
    const seen: Buffer[] = [];
    const feed = wholeFrames((data) => seen.push(data));
    for (let at = 0; at < big.length; at += 65536) {
      assert.equal(seen.length, 0);
      feed(big.subarray(at, at + 65536));
    }
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0], big);
  });

  it("a negative frame size (a broken stream) is handed on, never looped on", () => {
    const seen: Buffer[] = [];
    const feed = wholeFrames((data) => seen.push(data));
    const broken = Buffer.alloc(8);
    broken.writeInt32BE(-5, 0);
    feed(broken.subarray(0, 2));
    feed(broken.subarray(2));
    assert.deepEqual(Buffer.concat(seen), broken);
  });
});
