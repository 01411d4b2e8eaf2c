/** kafkajs's data listener gets bytes only once whole Kafka frames have arrived, however they are cut. */
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

/** A listener fed by `wholeFrames`, and what it was handed by each chunk fed (joined). */
function recorder() {
  const calls: Buffer[] = [];
  const feed = wholeFrames((data) => calls.push(Buffer.from(data)));
  const handed: Buffer[] = [];
  return {
    handed,
    calls,
    feed(chunk: Buffer) {
      const before = calls.length;
      feed(chunk);
      if (calls.length > before) handed.push(Buffer.concat(calls.slice(before)));
    },
  };
}

/** Whether `data` is whole frames, end to end. */
function endsOnFrame(data: Buffer): boolean {
  let at = 0;
  while (at + 4 <= data.length) at += 4 + Math.max(0, data.readInt32BE(at));
  return at === data.length;
}

describe("kafka: whole frames to kafkajs", () => {
  it("random cuts of a stream of frames: what each chunk hands on is whole frames, in order", () => {
    const random = new Random(7);
    for (let round = 0; round < 300; round++) {
      const frames = Array.from(
        { length: 1 + random.int(20) },
        () => frame(random.bytes(random.int(300))),
      );
      const stream = Buffer.concat(frames);
      const listener = recorder();
      for (let at = 0; at < stream.length;) {
        const size = 1 + random.int(64);
        listener.feed(stream.subarray(at, at + size));
        at += size;
      }
      assert.deepEqual(Buffer.concat(listener.handed), stream);
      for (const data of listener.handed) assert.ok(endsOnFrame(data), "cut inside a frame");
      assert.ok(listener.calls.every((call) => call.length > 0), "an empty call");
    }
  });

  it("a frame's size cut over several chunks is read whole", () => {
    const listener = recorder();
    const first = frame(new Uint8Array([9]));
    const second = frame(new Uint8Array(300).fill(7));
    const stream = Buffer.concat([first, second]);
    // 1-byte chunks: every size arrives spread over four of them.
    for (let at = 0; at < stream.length; at++) listener.feed(stream.subarray(at, at + 1));
    assert.deepEqual(listener.handed, [first, second]);
  });

  it("a frame cut short is never handed on (it dies with its socket)", () => {
    const listener = recorder();
    const whole = frame(new Uint8Array([1, 2, 3]));
    listener.feed(Buffer.concat([whole, frame(new Uint8Array(100)).subarray(0, 50)]));
    assert.deepEqual(listener.handed, [whole]);
  });

  it("a 1 MiB frame in 64 KiB chunks: nothing until its last chunk, then its chunks as they came", () => {
    const big = frame(new Random(3).bytes(1 << 20));
    const seen: Buffer[] = [];
    const feed = wholeFrames((data) => seen.push(data));
    const chunks: Buffer[] = [];
    for (let at = 0; at < big.length; at += 65536) {
      assert.equal(seen.length, 0);
      chunks.push(big.subarray(at, at + 65536));
      feed(chunks[chunks.length - 1]);
    }
    // Handed on as they came, not joined (kafkajs joins them: joining here copied them twice).
    assert.equal(seen.length, chunks.length);
    seen.forEach((piece, i) => assert.equal(piece, chunks[i]));
    assert.deepEqual(Buffer.concat(seen), big);
  });

  it("a negative frame size (a broken stream) is handed on, never looped on", () => {
    const listener = recorder();
    const broken = Buffer.alloc(8);
    broken.writeInt32BE(-5, 0);
    listener.feed(broken.subarray(0, 2));
    listener.feed(broken.subarray(2));
    assert.deepEqual(Buffer.concat(listener.handed), broken);
  });
});
