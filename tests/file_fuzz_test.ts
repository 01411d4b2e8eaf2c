/**
 * Generated bad `.ss` files (seeded, repeatable; FUZZ_SEED replays a run):
 * random bytes, random headers, and valid files (with beacons and messages
 * split around them) truncated or mutated. Every case ends in messages or a
 * StreamError with a code (a FormatError carries the byte offset of the bad
 * bytes), never a hang, a crash or an unhandled rejection.
 *
 * 12,000 cases are decoded from memory with the file backend's decoder,
 * resynchronising after each error at the next beacon as the reader does; a
 * subset is also written to disk and replayed through the file consumer
 * (`live: false`), each case bounded in time.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { isStreamError, isValidStreamKey, SeaStreamer, type StreamError } from "../mod.ts";
import { makeTempDir, memoryUsage, remove, timeout, writeFile } from "../runtime/mod.ts";
import { FrameDecoder, NEED_MORE } from "../backends/file/decoder.ts";
import { MessageEncoder } from "../backends/file/encoder.ts";
import { Damage, decodeHeader, FormatError, HEADER_SIZE } from "../backends/file/format.ts";
import { Random, seed } from "./support/random.ts";

const MEMORY_CASES = 12_000;
const REPLAY_CASES = 300;
const KEYS = ["a", "orders", "s.1-x_y", "k".repeat(120)];
const encoder = new TextEncoder();

/** A valid file and what it holds. */
interface BaseFile {
  bytes: Uint8Array;
  interval: number;
  messages: { key: string; seq: bigint; payload: Uint8Array; offset: number; end: number }[];
}

/** A valid file of random messages: several keys, small and beacon-spanning payloads, maybe EOS. */
function makeBaseFile(random: Random, index: number): BaseFile {
  const interval = random.pick([1024, 1024, 2048, 4096]);
  const encoderForFile = MessageEncoder.forNewFile({
    fileName: `fuzz-${index}.ss`,
    createdAt: 1_700_000_000_000 + index,
    beaconInterval: interval,
  });
  const messages: BaseFile["messages"] = [];
  const count = 3 + random.int(60);
  const seqs = new Map<string, bigint>();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const key = random.pick(KEYS);
    const seq = (seqs.get(key) ?? BigInt(random.int(1000))) + 1n;
    seqs.set(key, seq);
    const size = random.int(10) === 0 ? 500 + random.int(3000) : random.int(60);
    const payload = `${index}.${i}:` + random.string(size, 'abcdefghij0123456789 {}"é');
    const payloadBytes = encoder.encode(payload);
    encoderForFile.encode(key, random.int(4), seq, 1_700_000_000_000 + i, payloadBytes);
    messages.push({ key, seq, payload: payloadBytes, offset: 0, end: 0 });
    bytes += payloadBytes.length;
  }
  if (random.int(3) === 0) encoderForFile.encodeEndOfStream(1_700_000_000_000 + count);
  const out = encoderForFile.take().slice();
  // Where each message ends in the file, to know which survive a truncation.
  const decoded = decodeBytes(out, "base");
  assert.equal(decoded.errors.length, 0, "a base file decodes cleanly");
  decoded.messages.forEach((message, i) => {
    if (i < messages.length) {
      messages[i].offset = message.offset;
      messages[i].end = message.end;
    }
  });
  assert.ok(bytes > 0);
  return { bytes: out, interval, messages };
}

/** One decoded message. */
interface Decoded {
  key: string;
  seq: bigint;
  payload: Uint8Array;
  offset: number;
  end: number;
}

/** What decoding a file gave. */
interface Outcome {
  messages: Decoded[];
  errors: StreamError[];
  /** Whether the file ended inside a message (a torn tail). */
  torn: boolean;
}

/**
 * Decoders by beacon interval, reused from case to case: each holds a
 * WebAssembly CRC module, and making 12,000 of them costs more than the cases.
 */
const decoders = new Map<number, FrameDecoder>();

function decoderFor(interval: number): FrameDecoder {
  let decoder = decoders.get(interval);
  if (decoder === undefined) {
    decoder = new FrameDecoder("fuzz.ss", interval, HEADER_SIZE);
    if (decoders.size < 64) decoders.set(interval, decoder);
  }
  return decoder;
}

/**
 * The first offset from `start` on where a message (or a beacon followed by
 * one) decodes and checks out in `bytes`, as the reader resynchronises; the
 * decoder is left there. `undefined` if there is none.
 */
function findMessage(
  decoder: FrameDecoder,
  bytes: Uint8Array,
  start: number,
  barren: { from: number },
): number | undefined {
  // Nothing from `barren.from` to the end checks out: no need to look there again.
  if (start >= barren.from) return undefined;
  decoder.probing = true;
  for (let at = start; at < bytes.length; at++) {
    decoder.pos = at;
    decoder.skipping = at % decoder.interval === 0;
    const result = decoder.next();
    if (result === NEED_MORE || result instanceof FormatError) continue;
    decoder.pos = at;
    decoder.skipping = at % decoder.interval === 0;
    decoder.probing = false;
    return at;
  }
  decoder.probing = false;
  barren.from = start;
  return undefined;
}

/**
 * Decode `bytes` as the reader does: header, then messages; after a format
 * error, go on at the next message that checks out (or, if none follows, at
 * the next beacon); a message cut by the end of the file is damage if good
 * messages follow it. Every step must move forward, so a case cannot loop.
 */
function decodeBytes(bytes: Uint8Array, path = "fuzz.ss"): Outcome {
  const outcome: Outcome = { messages: [], errors: [], torn: false };
  let interval: number;
  try {
    interval = decodeHeader(bytes.subarray(0, HEADER_SIZE), path).beaconInterval;
  } catch (error) {
    assert.ok(error instanceof FormatError, `header: ${error}`);
    outcome.errors.push(error);
    return outcome;
  }
  const decoder = decoderFor(interval);
  decoder.pos = HEADER_SIZE;
  decoder.skipping = false;
  decoder.beaconIndex = 0;
  decoder.markers = [];
  decoder.setWindow(bytes, 0);
  let steps = 0;
  let lastEnd = HEADER_SIZE;
  const barren = { from: Infinity };
  for (;;) {
    assert.ok(++steps <= bytes.length + 2, `the decoder loops (${steps} steps)`);
    const before = decoder.pos;
    const result = decoder.next();
    if (result === NEED_MORE) {
      assert.ok(decoder.need > bytes.length, `NEED_MORE up to ${decoder.need} of ${bytes.length}`);
      const skipping = decoder.skipping;
      if (before < bytes.length && findMessage(decoder, bytes, before + 1, barren) !== undefined) {
        outcome.errors.push(new FormatError(path, before, "length past good messages"));
        continue;
      }
      decoder.pos = before;
      decoder.skipping = skipping;
      outcome.torn = before < bytes.length;
      return outcome;
    }
    if (result instanceof FormatError) {
      assert.equal(result.code, "Backend");
      assert.ok(
        result.offset >= before && result.offset <= bytes.length,
        `offset ${result.offset}`,
      );
      assert.match(result.message, new RegExp(`at byte offset ${result.offset}$`));
      outcome.errors.push(result);
      if (findMessage(decoder, bytes, before + 1, barren) !== undefined) continue;
      const next = before - (before % interval) + interval;
      assert.ok(next > before, "resynchronising moves forward");
      decoder.pos = next;
      decoder.skipping = true;
      if (next >= bytes.length) return outcome;
      continue;
    }
    assert.ok(decoder.pos > before, "a message moves the position forward");
    assert.ok(result.offset >= lastEnd && result.end <= bytes.length, "message within the file");
    lastEnd = result.end;
    const { streamKey, seqNo } = result.header;
    assert.ok(
      isValidStreamKey(streamKey) || streamKey === "SEA_STREAMER_INTERNAL",
      `key "${streamKey}" at ${result.offset}`,
    );
    assert.ok(seqNo >= 0n && seqNo < 2n ** 64n);
    outcome.messages.push({
      key: streamKey,
      seq: seqNo,
      payload: result.payload.bytes(),
      offset: result.offset,
      end: result.end,
    });
  }
}

/** The mutations tried on a valid file, by name. */
/** A mutated file and the first offset its mutation may have changed. */
interface Mutated {
  bytes: Uint8Array;
  from: number;
}

const MUTATIONS: Record<
  string,
  (random: Random, bytes: Uint8Array, interval: number, base: BaseFile) => Mutated
> = {
  /** A crash mid-write: the file cut anywhere. */
  truncate: (random, bytes) => {
    const length = random.int(bytes.length + 1);
    return { bytes: bytes.slice(0, length), from: length };
  },
  /** A few bytes replaced, inserted or removed anywhere. */
  edit: (random, bytes) => ({ bytes: random.mutate(bytes), from: 0 }),
  /** One bit flipped in the messages. */
  flip: (random, bytes) => {
    const out = bytes.slice();
    const at = HEADER_SIZE + random.int(Math.max(1, out.length - HEADER_SIZE));
    if (at < out.length) out[at] ^= 1 << random.int(8);
    return { bytes: out, from: at };
  },
  /** A run of garbage written over the bytes (a bad sector, another writer). */
  overwrite: (random, bytes) => {
    const out = bytes.slice();
    const at = random.int(out.length);
    out.set(random.bytes(Math.min(1 + random.int(64), out.length - at)), at);
    return { bytes: out, from: at };
  },
  /** A beacon's bytes damaged (its remaining count, item count or end mark). */
  beacon: (random, bytes, interval) => {
    const out = bytes.slice();
    const beacons = Math.floor((out.length - 1) / interval);
    if (beacons === 0) return { bytes: random.mutate(out), from: 0 };
    const at = interval * (1 + random.int(beacons)) + random.int(8);
    if (at < out.length) out[at] = random.int(256);
    return { bytes: out, from: at };
  },
  /** A message's payload length damaged, often to gigabytes (nothing that large may be allocated). */
  length: (random, bytes, _interval, base) => {
    const out = bytes.slice();
    const message = random.pick(base.messages);
    const at = message.offset + 1 + encoder.encode(message.key).length + 24;
    const value = random.pick([
      0xffffffff,
      0xfffffff0,
      0x80000000 + random.int(2 ** 31),
      random.int(2 ** 32),
    ]);
    if (at + 4 <= out.length) new DataView(out.buffer).setUint32(at, value);
    return { bytes: out, from: message.offset };
  },
  /** The header damaged (magic, version, name length, interval, end mark). */
  header: (random, bytes) => {
    const out = bytes.slice();
    out[random.int(HEADER_SIZE)] = random.int(256);
    return { bytes: out, from: 0 };
  },
  /** A range of zeros (a file system that lost a block). */
  zeros: (random, bytes) => {
    const out = bytes.slice();
    const at = random.int(out.length);
    out.fill(0, at, Math.min(out.length, at + 1 + random.int(2048)));
    return { bytes: out, from: at };
  },
  /** A piece of the file repeated (a write done twice). */
  duplicate: (random, bytes) => {
    const at = random.int(bytes.length);
    const length = random.int(Math.min(512, bytes.length - at) + 1);
    const out = new Uint8Array(bytes.length + length);
    out.set(bytes.subarray(0, at + length));
    out.set(bytes.subarray(at), at + length);
    return { bytes: out, from: at + length };
  },
  /** Random bytes with a valid-looking start. */
  random: (random) => {
    const out = random.bytes(random.int(4096));
    if (random.int(2) === 0 && out.length >= 3) out.set([0x53, 0x73, 0x01]);
    return { bytes: out, from: 0 };
  },
  /** A valid header followed by random bytes. */
  tail: (random, bytes) => {
    const out = new Uint8Array(HEADER_SIZE + random.int(4096));
    out.set(bytes.subarray(0, HEADER_SIZE));
    out.set(random.bytes(out.length - HEADER_SIZE), HEADER_SIZE);
    return { bytes: out, from: HEADER_SIZE };
  },
};

/** A case: its mutation's name, its bytes, the file it came from. */
interface Case extends Mutated {
  kind: string;
  base: BaseFile;
}

function* cases(random: Random, count: number, bases: readonly BaseFile[]): Generator<Case> {
  const kinds = Object.keys(MUTATIONS);
  for (let i = 0; i < count; i++) {
    const base = random.pick(bases);
    const kind = kinds[i % kinds.length];
    yield { kind, ...MUTATIONS[kind](random, base.bytes, base.interval, base), base };
  }
}

/** Whether a decoded message is the one written. */
function sameMessage(got: Decoded, written: BaseFile["messages"][number]): boolean {
  if (got.key !== written.key || got.seq !== written.seq) return false;
  if (got.payload.length !== written.payload.length) return false;
  for (let i = 0; i < got.payload.length; i++) {
    if (got.payload[i] !== written.payload[i]) return false;
  }
  return true;
}

describe(`file format fuzz (seed ${seed})`, () => {
  const random = new Random(seed + 10);
  const bases = Array.from({ length: 40 }, (_, i) => makeBaseFile(random, i));
  const dir = makeTempDir("seastreamer-file-fuzz-");
  after(async () => await remove(await dir));

  it(`the decoder: ${MEMORY_CASES} random, truncated and mutated files end in messages or FormatErrors`, () => {
    const tally: Record<string, { cases: number; messages: number; errors: number }> = {};
    let slowest = 0;
    let intactChecked = 0;
    for (const { kind, bytes, base, from } of cases(random, MEMORY_CASES, bases)) {
      const started = performance.now();
      const outcome = decodeBytes(bytes, `${kind}.ss`);
      slowest = Math.max(slowest, performance.now() - started);
      const entry = tally[kind] ??= { cases: 0, messages: 0, errors: 0 };
      entry.cases++;
      entry.messages += outcome.messages.length;
      entry.errors += outcome.errors.length;
      // Nothing lost before the damage: the messages that end before the first changed
      // byte come first, exactly as written (for a truncation: all that fit, nothing else).
      const intact = base.messages.filter((m) => m.end <= from);
      const got = outcome.messages.filter((m) => m.key !== "SEA_STREAMER_INTERNAL");
      for (let m = 0; m < intact.length; m++) {
        assert.ok(
          m < got.length && sameMessage(got[m], intact[m]),
          `${kind}: message ${m} (before the damage at ${from}) was lost or changed`,
        );
      }
      intactChecked += intact.length;
      if (kind === "truncate") {
        assert.equal(got.length, intact.length, "a truncated file invents nothing");
        if (bytes.length >= HEADER_SIZE) assert.equal(outcome.errors.length, 0);
      }
    }
    assert.ok(slowest < 1000, `the slowest case took ${slowest.toFixed(0)} ms`);
    for (const [kind, entry] of Object.entries(tally)) {
      assert.ok(entry.cases > 0);
      // Every mutation class except plain truncation must be detected at least once.
      if (kind !== "truncate") assert.ok(entry.errors > 0, `${kind} never produced an error`);
    }
    console.log(
      `decoder fuzz: ${MEMORY_CASES} cases, ${intactChecked} undamaged messages checked,`,
      `slowest ${slowest.toFixed(1)} ms;`,
      JSON.stringify(tally),
    );
  });

  it(`the replay consumer: ${REPLAY_CASES} damaged files on disk, each bounded to 10 s`, async () => {
    const folder = await dir;
    const replayRandom = new Random(seed + 11);
    let messages = 0;
    let errors = 0;
    let refused = 0;
    let index = 0;
    for (const { kind, bytes } of cases(replayRandom, REPLAY_CASES, bases)) {
      const path = `${folder}/case-${index++}-${kind}.ss`;
      await writeFile(path, bytes);
      const expected = decodeBytes(bytes, path);
      const result = await timeout(replay(path), 10_000, `replaying ${path}`);
      messages += result.messages;
      errors += result.errors.length;
      if (result.refused) refused++;
      for (const error of result.errors) {
        assert.ok(isStreamError(error) && typeof error.code === "string", `${path}: ${error}`);
        if (error instanceof FormatError) {
          assert.ok(error.offset >= 0 && error.offset <= bytes.length, `${path}: ${error}`);
        }
        if (error instanceof Damage) {
          assert.ok(error.code === "Corrupt" && error.skipped > 0, `${path}: ${error}`);
        }
      }
      // The consumer delivers what the decoder finds (the keys it subscribed to), no more.
      const decodable = expected.messages.filter((m) => KEYS.includes(m.key)).length;
      assert.ok(result.messages <= decodable, `${path}: ${result.messages} > ${decodable}`);
      if (expected.errors.length === 0 && !expected.torn) {
        assert.equal(result.messages, decodable, `${path}: a clean file replays fully`);
      }
      await remove(path);
    }
    console.log(
      `replay fuzz: ${REPLAY_CASES} files, ${messages} messages, ${errors} errors, ${refused} refused at open`,
    );
    assert.ok(messages > 0 && errors > 0, "both outcomes occur");
  });

  it("a damaged length of almost 4 GiB allocates nothing that large (small and 4 GiB beacon intervals)", async () => {
    const folder = await dir;
    for (const interval of [1024, 0xfffffc00]) {
      const bytes = hugeLengthFile(interval);
      const outcome = decodeBytes(bytes);
      // Only the damaged first message is lost.
      assert.equal(outcome.messages.length, 1999, "the damaged message alone is skipped");
      assert.ok(outcome.errors.length === 1);
      const path = `${folder}/huge-${interval}.ss`;
      await writeFile(path, bytes);
      const rssBefore = memoryUsage().rss;
      const result = await timeout(replay(path), 10_000, `replaying ${path}`);
      const grown = memoryUsage().rss - rssBefore;
      for (const error of result.errors) assert.ok(isStreamError(error), `${error}`);
      assert.ok(grown < 256 * 2 ** 20, `replay grew RSS by ${grown >> 20} MiB`);
    }
  });
});

/** A 200 KiB file whose first message claims a payload of almost 4 GiB, with beacons `interval` apart. */
function hugeLengthFile(interval: number): Uint8Array {
  const file = MessageEncoder.forNewFile({
    fileName: "huge.ss",
    createdAt: 0,
    beaconInterval: interval,
  });
  // Larger than the reader's first read (64 KiB), so it is not yet at the end when it looks.
  const payload = encoder.encode("x".repeat(100));
  for (let i = 0; i < 2000; i++) file.encode("s", 0, BigInt(i), 0, payload);
  const bytes = file.take().slice();
  new DataView(bytes.buffer).setUint32(HEADER_SIZE + 1 + 1 + 24, 0xfffffff0);
  return bytes;
}

/** Replay `path` to its end: messages delivered, errors seen, whether opening failed. */
async function replay(
  path: string,
): Promise<{ messages: number; errors: unknown[]; refused: boolean }> {
  const errors: unknown[] = [];
  let streamer;
  try {
    streamer = await SeaStreamer.connect(`file://${path}`);
  } catch (error) {
    return { messages: 0, errors: [error], refused: true };
  }
  let messages = 0;
  try {
    const consumer = await streamer.createConsumer(KEYS, {
      autoStreamReset: "earliest",
      file: { live: false },
    });
    for (let step = 0;; step++) {
      assert.ok(step < 100_000, "the consumer never ends");
      try {
        await consumer.next();
        messages++;
      } catch (error) {
        if (isStreamError(error, "Closed")) break;
        errors.push(error);
        if (!(error instanceof FormatError)) break;
      }
    }
    await consumer.end();
  } catch (error) {
    errors.push(error);
    return { messages, errors, refused: messages === 0 };
  } finally {
    await streamer.disconnect();
  }
  return { messages, errors, refused: false };
}
