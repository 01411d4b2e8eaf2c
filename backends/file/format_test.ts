import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc16, CRC_INIT, CrcEngine, crcUpdate, runningChecksum } from "./crc.ts";
import {
  decodeHeader,
  encodeHeader,
  type FileHeader,
  FormatError,
  HEADER_SIZE,
  type Marker,
  markersPerBeacon,
  SEA_STREAMER_INTERNAL,
} from "./format.ts";
import { MessageEncoder } from "./encoder.ts";
import { FrameDecoder, NEED_MORE } from "./decoder.ts";
import type { FileMessage } from "./message.ts";
import { fixture } from "../../tests/support/fixtures.ts";
// CRC-16/CDMA2000 one bit at a time: the definition the fast versions are checked against.
import { crc16 as crcByBits } from "../../tests/support/ss_decoder.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Every message of a whole file's bytes (and the beacons passed), decoded in windows of `window` bytes. */
function decodeAll(bytes: Uint8Array, window = bytes.length) {
  const header = decodeHeader(bytes, "test.ss");
  const decoder = new FrameDecoder("test.ss", header.beaconInterval, HEADER_SIZE);
  const messages: FileMessage[] = [];
  const beacons: { index: number; markers: Marker[] }[] = [];
  let errors = 0;
  decoder.setWindow(bytes.subarray(0, Math.min(bytes.length, HEADER_SIZE + window)), 0);
  for (;;) {
    const result = decoder.next();
    if (decoder.beaconIndex !== (beacons.at(-1)?.index ?? 0)) {
      beacons.push({ index: decoder.beaconIndex, markers: decoder.markers });
    }
    if (result === NEED_MORE) {
      if (decoder.windowEnd >= bytes.length) break;
      const start = decoder.pos;
      const end = Math.min(bytes.length, Math.max(decoder.need, start + window));
      decoder.setWindow(bytes.subarray(start, end), start);
      continue;
    }
    if (result instanceof FormatError) {
      errors++;
      break;
    }
    messages.push(result);
  }
  return { header, messages, beacons, errors, end: decoder.pos };
}

describe("file format: CRC-16/CDMA2000", () => {
  it("matches the check values (and SeaStreamer's tests)", () => {
    assert.equal(crc16(text("123456789")), 0x4c06);
    assert.equal(crc16(text("hello, world")), 0x8028);
    assert.equal(crc16(text("123456789abcd")), 0xa106);
    assert.equal(crc16(new Uint8Array(0)), CRC_INIT);
  });

  it("the sliced loop, the WebAssembly loop and the bit-by-bit definition agree", () => {
    const wasm = new CrcEngine();
    const js = new CrcEngine(true);
    let seed = 7;
    for (let length = 0; length < 700; length += length < 40 ? 1 : 37) {
      const bytes = Uint8Array.from(
        { length },
        () => (seed = (seed * 1103515245 + 12345) >>> 8) & 255,
      );
      const expected = crcByBits(bytes);
      assert.equal(crc16(bytes), expected, `sliced, length ${length}`);
      assert.equal(wasm.of(bytes), expected, `wasm, length ${length}`);
      assert.equal(js.of(bytes), expected, `js engine, length ${length}`);
      const cut = length >> 1;
      assert.equal(crcUpdate(crcUpdate(CRC_INIT, bytes, 0, cut), bytes, cut, length), expected);
    }
    const window = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 255);
    wasm.load(window);
    assert.equal(wasm.ofLoaded(100, 4000), crcByBits(window.subarray(100, 4000)));
  });

  it("a running checksum folds a message checksum's two bytes, big-endian", () => {
    assert.equal(runningChecksum(CRC_INIT, 0x3132), crc16(text("12")));
    const twice = runningChecksum(runningChecksum(CRC_INIT, 0x3132), 0x3334);
    assert.equal(twice, crc16(text("1234")));
  });
});

describe("file format: header", () => {
  it("round-trips, 128 bytes ending in 0D, as SeaStreamer lays it out", () => {
    const header: FileHeader = {
      fileName: "data.ss",
      createdAt: 1_700_000_000_123,
      beaconInterval: 1024,
    };
    const bytes = encodeHeader(header);
    assert.equal(bytes.length, HEADER_SIZE);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x53, 0x73, 0x01, 7]);
    assert.equal(bytes[127], 0x0d);
    assert.deepEqual(decodeHeader(bytes, "x"), header);
  });

  it("cuts a long file name at a character boundary so it fits", () => {
    const header = encodeHeader({ fileName: "é".repeat(100), createdAt: 0, beaconInterval: 1024 });
    const name = decodeHeader(header, "x").fileName;
    assert.ok(name.length > 0 && [...name].every((c) => c === "é"));
  });

  it("refuses what is not a SeaStreamer file", () => {
    const bytes = encodeHeader({ fileName: "a", createdAt: 0, beaconInterval: 1024 });
    const wrongMark = bytes.slice();
    wrongMark[0] = 0x00;
    assert.throws(
      () => decodeHeader(wrongMark, "x"),
      (e: unknown) => e instanceof FormatError && e.offset === 0,
    );
    const wrongVersion = bytes.slice();
    wrongVersion[2] = 9;
    assert.throws(() => decodeHeader(wrongVersion, "x"), /version 9/);
    assert.throws(() => decodeHeader(bytes.subarray(0, 50), "x"), /cut short/);
  });
});

describe("file format: SeaStreamer's files", () => {
  it("consumer.ss: 100 messages of hello (shard 1, seq 0..99, hello-N) and EOS", async () => {
    const { header, messages, beacons, errors, end } = decodeAll(await fixture("consumer.ss"));
    assert.equal(header.beaconInterval, 1024);
    assert.equal(errors, 0);
    assert.equal(end, 4830);
    assert.equal(messages.length, 101);
    for (let i = 0; i < 100; i++) {
      const { header: h, payload } = messages[i];
      assert.deepEqual([h.streamKey, h.shardId, h.seqNo], ["hello", 1, BigInt(i)]);
      assert.equal(payload.text(), `hello-${i}`);
    }
    const eos = messages[100];
    assert.equal(eos.header.streamKey, SEA_STREAMER_INTERNAL);
    assert.ok(eos.isEndOfStream);
    // Beacons at 1 KiB, 2 KiB, 3 KiB and 4 KiB, each with one marker (all 1 KiB can hold).
    assert.deepEqual(beacons.map((b) => b.index), [1, 2, 3, 4]);
    assert.equal(markersPerBeacon(1024), 1);
    for (const { markers } of beacons) {
      assert.equal(markers.length, 1);
      assert.equal(markers[0].streamKey, "hello");
    }
    // A beacon's marker has the stream's highest seq so far: the message split by the beacon included.
    const split = messages.filter((m) =>
      Math.floor(m.offset / 1024) !== Math.floor((m.end - 1) / 1024)
    );
    assert.equal(split.length, 4, "messages are split around the 4 beacons");
    for (let i = 0; i < 4; i++) assert.equal(beacons[i].markers[0].seqNo, split[i].header.seqNo);
  });

  it("quicksort.ss: 42 messages of quicksort, seq 1..42, no end-of-stream", async () => {
    const { messages, errors } = decodeAll(await fixture("quicksort.ss"));
    assert.equal(errors, 0);
    assert.deepEqual(
      messages.map((m) => m.header.seqNo),
      Array.from({ length: 42 }, (_, i) => BigInt(i + 1)),
    );
    assert.ok(messages.every((m) => m.header.streamKey === "quicksort" && !m.isEndOfStream));
  });

  it("sample-1.ss: file 1, breakpoint 4, event 22, EOS; files and breakpoints are JSON", async () => {
    const { messages, errors } = decodeAll(await fixture("sample-1.ss"));
    assert.equal(errors, 0);
    const counts: Record<string, number> = {};
    for (const m of messages) counts[m.header.streamKey] = (counts[m.header.streamKey] ?? 0) + 1;
    assert.deepEqual(counts, { file: 1, breakpoint: 4, event: 22, [SEA_STREAMER_INTERNAL]: 1 });
    for (const m of messages.filter((m) => ["file", "breakpoint"].includes(m.header.streamKey))) {
      assert.equal(typeof m.payload.json(), "object");
    }
    assert.ok(messages.at(-1)!.isEndOfStream);
  });

  for (const name of ["consumer.ss", "quicksort.ss", "sample-1.ss"]) {
    it(`${name}: our writer makes the very same bytes from its header and messages`, async () => {
      const original = await fixture(name);
      const { header, messages } = decodeAll(original);
      const encoder = MessageEncoder.forNewFile(header);
      for (const m of messages) {
        const { streamKey, shardId, seqNo, timestamp } = m.header;
        encoder.encode(streamKey, shardId, seqNo, timestamp.getTime(), m.payload.bytes());
      }
      const written = encoder.take();
      assert.equal(written.length, original.length);
      assert.ok(
        written.every((byte, i) => byte === original[i]),
        "the bytes differ",
      );
    });

    it(`${name}: reads the same in small windows (messages and beacons cut anywhere)`, async () => {
      const bytes = await fixture(name);
      const whole = decodeAll(bytes);
      for (const window of [1, 7, 100, 1000]) {
        const cut = decodeAll(bytes, window);
        assert.equal(cut.errors, 0);
        assert.deepEqual(
          cut.messages.map((m) => [m.header.seqNo, m.offset, m.checksum]),
          whole.messages.map((m) => [m.header.seqNo, m.offset, m.checksum]),
        );
      }
    });
  }
});

describe("file format: beacons", () => {
  it("summarize streams round-robin (few markers fit), with the highest seq and the running checksum", () => {
    const header: FileHeader = { fileName: "b.ss", createdAt: 0, beaconInterval: 1024 };
    const encoder = MessageEncoder.forNewFile(header);
    const streams = ["a", "b", "c"];
    const running = new Map(streams.map((s) => [s, CRC_INIT]));
    const seqs = new Map<string, number>();
    const sent: { stream: string; end: number; running: number; seq: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const stream = streams[i % 3];
      const payload = text(`${stream}-${i}-${"x".repeat(i % 50)}`);
      const seq = (seqs.get(stream) ?? 0) + 1;
      seqs.set(stream, seq);
      const checksum = encoder.encode(stream, 0, BigInt(seq), 1000 + i, payload);
      assert.equal(checksum, crc16(payload));
      running.set(stream, runningChecksum(running.get(stream)!, checksum));
      sent.push({ stream, end: encoder.offset, running: running.get(stream)!, seq });
    }
    const bytes = encoder.take();
    const { beacons, messages } = decodeAll(bytes);
    assert.equal(messages.length, 200);
    assert.ok(beacons.length >= 5);
    let expectedStream = 0;
    for (const { index, markers } of beacons) {
      // One marker per beacon at 1 KiB, the streams taken in turn (in key order).
      assert.equal(markers.length, 1);
      const [marker] = markers;
      assert.equal(marker.streamKey, streams[expectedStream++ % 3]);
      // The marker is its stream's state after the last message begun before the beacon.
      const offset = index * 1024;
      const begun = messages.filter((m) =>
        m.header.streamKey === marker.streamKey && m.offset < offset
      );
      const last = begun.at(-1)!;
      const state = sent.find((s) =>
        s.stream === marker.streamKey && BigInt(s.seq) === last.header.seqNo
      )!;
      assert.equal(marker.seqNo, last.header.seqNo);
      assert.equal(marker.runningChecksum, state.running);
      assert.equal(marker.timestamp, last.header.timestamp.getTime());
    }
  });
});
