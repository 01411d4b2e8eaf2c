/**
 * File backend throughput: write, then read, 1,000,000 messages of 256 bytes
 * through the public API (producer.send / consumer.next), and in the same run
 * the same bytes with plain sequential file I/O (pre-built buffers written in
 * large chunks; a read loop that counts newlines). Prints messages per second,
 * the ratios (ours / plain) and the peak memory of the read.
 *
 * Run: `deno run -A bench/file.ts [count]`, `bun bench/file.ts [count]`,
 * `node npm/bench/file.js [count]` (after the npm build), or `deno task bench file`
 * for all three. Each figure is the best of three rounds (this machine is noisy);
 * the plain writes and ours alternate.
 *
 * "user shape" rows (bench/seastreamer_rates.ts): 1,000,000 `producer.send(string)`
 * with the 256-byte string built in the loop, not awaited, timed to one
 * `flush()` (no sync: disconnecting, which syncs, is not timed), against plain
 * writes of the same strings (built the same way, each with a newline, encoded
 * into 4 MiB chunks appended in turn); then `for await` reading `payload.text()`
 * (`file: { live: false }`) against the plain newline-counting read of that
 * file. And the memory a user's loop takes: the peak RSS growth while 1,000,000
 * sends wait for their one flush, against the payload bytes (measured first,
 * in a child process of its own).
 *
 * @module
 */
import { SeaStreamer } from "../mod.ts";
import { args, isMainModule, makeTempDir, memoryUsage, openFile, remove } from "../runtime/mod.ts";
import { alternate, type BenchResult, compare, report, resultsInChild } from "./report.ts";
import {
  USER_PAYLOAD_SIZE,
  userConsumeRate,
  userPayload,
  userProduceMemory,
  userProduceRate,
} from "./seastreamer_rates.ts";

const SIZE = 256;
const CHUNK = 4 * 1024 * 1024;

function line(i: number): Uint8Array {
  // 255 printable bytes and a newline: the plain read counts lines; we carry it as the payload.
  const bytes = new Uint8Array(SIZE);
  bytes.fill(0x61 + (i % 26));
  bytes[SIZE - 1] = 0x0a;
  return bytes;
}

async function plainWrite(path: string, count: number): Promise<number> {
  const chunk = new Uint8Array(CHUNK);
  const perChunk = CHUNK / SIZE;
  for (let i = 0; i < perChunk; i++) chunk.set(line(i), i * SIZE);
  const started = performance.now();
  const file = await openFile(path, { createNew: true });
  let written = 0;
  let position = 0;
  while (written < count) {
    const n = Math.min(perChunk, count - written);
    await file.append(n === perChunk ? chunk : chunk.subarray(0, n * SIZE));
    written += n;
    position += n * SIZE;
  }
  await file.close();
  return performance.now() - started;
}

async function plainRead(path: string): Promise<{ ms: number; lines: number }> {
  const started = performance.now();
  const file = await openFile(path);
  let lines = 0;
  let position = 0;
  for (;;) {
    const bytes = new Uint8Array(CHUNK);
    const got = await file.read(bytes, position);
    if (got === 0) break;
    position += got;
    const view = got === CHUNK ? bytes : bytes.subarray(0, got);
    for (let at = view.indexOf(0x0a); at >= 0; at = view.indexOf(0x0a, at + 1)) lines++;
  }
  await file.close();
  return { ms: performance.now() - started, lines };
}

/**
 * Connect, send, and end the producer: every byte is then written to the OS,
 * as after the plain writes. (Disconnecting also syncs the file to the disk,
 * which the plain writes do not do: it is left out of the time.)
 */
async function oursWrite(uri: string, count: number): Promise<number> {
  const payloads = Array.from({ length: 26 }, (_, i) => line(i));
  const started = performance.now();
  const streamer = await SeaStreamer.connect(uri, { file: { createIfNotExists: true } });
  const producer = await streamer.createProducer("bench", { maxBatchSize: 10_000 });
  for (let i = 0; i < count; i++) {
    producer.send(payloads[i % 26]);
    if (i % 10_000 === 9_999) await producer.flush();
  }
  await producer.end();
  const ms = performance.now() - started;
  await streamer.disconnect();
  return ms;
}

async function oursRead(uri: string, count: number): Promise<{ ms: number; peakRss: number }> {
  const before = memoryUsage().rss;
  let peakRss = before;
  const started = performance.now();
  const streamer = await SeaStreamer.connect(uri);
  const consumer = await streamer.createConsumer(["bench"], {
    autoStreamReset: "earliest",
    file: { live: false },
  });
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const message = await consumer.next();
    bytes += message.payload.bytes().length; // look at the payload, as a consumer would
    if (i % 50_000 === 0) peakRss = Math.max(peakRss, memoryUsage().rss);
  }
  await consumer.end();
  await streamer.disconnect();
  const ms = performance.now() - started;
  if (bytes !== count * SIZE) throw new Error(`read ${bytes} bytes, expected ${count * SIZE}`);
  return { ms, peakRss: Math.max(peakRss, memoryUsage().rss) };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const rate = (count: number, ms: number) => count / (ms / 1000);

/**
 * Measure writes and reads of `count` messages (best of `rounds` each, the
 * machine being noisy), ours and plain, alternating; the results.
 */
export async function run(count = 1_000_000, rounds = 3): Promise<BenchResult[]> {
  const dir = await makeTempDir("seastreamer-bench-");
  try {
    let plainW = Infinity;
    let plainR = Infinity;
    let oursW = Infinity;
    let oursR = Infinity;
    let peak = 0;
    let baseRss = 0;
    for (let round = 0; round < rounds; round++) {
      const plain = `${dir}/plain-${round}.txt`;
      const ours = `${dir}/ours-${round}.ss`;
      plainW = Math.min(plainW, await plainWrite(plain, count));
      oursW = Math.min(oursW, await oursWrite(`file://${ours}`, count));
      const plainRead_ = await plainRead(plain);
      if (plainRead_.lines !== count) throw new Error(`plain read ${plainRead_.lines} lines`);
      plainR = Math.min(plainR, plainRead_.ms);
      baseRss = memoryUsage().rss;
      const read = await oursRead(`file://${ours}`, count);
      if (read.ms < oursR) {
        oursR = read.ms;
        peak = read.peakRss;
      }
      await remove(plain);
      await remove(ours);
    }
    const readNotes = `peak RSS of the read ${mib(peak)}, ${
      mib(Math.max(0, peak - baseRss))
    } above the RSS before it; the file is ${mib(count * (SIZE + 30))}`;
    return [
      compare(
        `file write ${count} x ${SIZE} B (target >= 0.25)`,
        "plain file writes",
        rate(count, oursW),
        rate(count, plainW),
      ),
      compare(
        `file read ${count} x ${SIZE} B (target >= 0.35)`,
        "plain read + newline count",
        rate(count, oursR),
        rate(count, plainR),
        "msg/s",
        readNotes,
      ),
    ];
  } finally {
    await remove(dir);
  }
}

/**
 * Plain writes of the user's strings: each built as ours are, with a newline,
 * encoded into a 4 MiB chunk; each full chunk appended. Timed from the first
 * string to the last append (opening and closing are not, as connecting and
 * disconnecting are not for ours).
 */
async function plainUserWrite(path: string, count: number): Promise<number> {
  const file = await openFile(path, { createNew: true });
  const encoder = new TextEncoder();
  const chunk = new Uint8Array(CHUNK);
  let used = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const text = `${userPayload(i)}\n`;
    if (CHUNK - used < text.length * 3) {
      await file.append(chunk.subarray(0, used));
      used = 0;
    }
    used += encoder.encodeInto(text, chunk.subarray(used)).written;
  }
  if (used > 0) await file.append(chunk.subarray(0, used));
  const elapsed = performance.now() - started;
  await file.close();
  return count / (elapsed / 1000);
}

/** The user's loops against plain file I/O, `rounds` rounds alternating; the results. */
export async function runUserShape(count = 1_000_000, rounds = 3): Promise<BenchResult[]> {
  const dir = await makeTempDir("seastreamer-bench-");
  const ours = (round: number) => `file://${dir}/user-${round}.ss`;
  const plain = (round: number) => `${dir}/user-${round}.txt`;
  const connect = { file: { createIfNotExists: true } };
  try {
    let round = 0;
    const write = await alternate(rounds, {
      ours: () => userProduceRate(ours(round), "bench", count, connect),
      plain: () => plainUserWrite(plain(round++), count),
    });
    let readRound = 0;
    const read = await alternate(rounds, {
      ours: () =>
        userConsumeRate(ours(readRound), ["bench"], count, USER_PAYLOAD_SIZE, {
          file: { live: false },
        }),
      plain: async () => {
        const { ms, lines } = await plainRead(plain(readRound++));
        if (lines !== count) throw new Error(`plain read ${lines} lines`);
        return rate(count, ms);
      },
    });
    return [
      compare(
        `file write user shape (${count} string sends x ${USER_PAYLOAD_SIZE} B, not awaited, one flush)`,
        "plain writes of the same strings + newline, 4 MiB chunks",
        write.ours,
        write.plain,
      ),
      compare(
        `file consume user shape ${count} (for await + text(), live: false)`,
        "plain read + newline count (indexOf)",
        read.ours,
        read.plain,
      ),
    ];
  } finally {
    await remove(dir);
  }
}

/** The peak RSS growth while `count` unawaited sends wait for one flush; against the payload bytes. */
export async function userMemory(count = 1_000_000): Promise<BenchResult> {
  const dir = await makeTempDir("seastreamer-bench-");
  try {
    const url = `file://${dir}/memory.ss`;
    const m = await userProduceMemory(url, "bench", count, { file: { createIfNotExists: true } });
    const payload = count * USER_PAYLOAD_SIZE;
    return compare(
      `file memory user shape (${count} string sends not awaited, one flush): peak RSS growth`,
      "payload bytes",
      (m.peak - m.before) / 1024 / 1024,
      payload / 1024 / 1024,
      "MiB",
      `RSS before ${mib(m.before)}, peak ${mib(m.peak)}; ${Math.round(m.rate)} msg/s`,
    );
  } finally {
    await remove(dir);
  }
}

if (isMainModule(import.meta)) {
  const count = Number(args().find((arg) => /^\d+$/.test(arg)) ?? 1_000_000);
  if (args().includes("--user-memory")) {
    report([await userMemory(count)]);
  } else {
    const results = [...await run(count), ...await runUserShape(count)];
    // In a fresh process: its RSS before the sends is the baseline of the growth.
    results.push(...await resultsInChild(import.meta.url, ["--user-memory", String(count)]));
    report(results);
  }
}
