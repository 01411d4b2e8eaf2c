/**
 * Groups of the file backend across OS processes: load-balanced members in
 * separate processes share a file's messages (each to one member; one
 * SIGKILLed has its share taken over), and resumable members of one group take
 * turns without losing or replaying a message. Under Deno one member runs on
 * Bun (mixed runtimes on one group).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SeaStreamer } from "../mod.ts";
import type { Producer, Streamer } from "../types.ts";
import {
  type ChildProcess,
  makeTempDir,
  remove,
  runtimeName,
  sleep,
  spawnProcess,
  stat,
  timeout,
} from "../runtime/mod.ts";
import { readAll, readLines, spawnScript } from "./support/spawn.ts";

const dir = await makeTempDir("seastreamer-file-groups-");
after(() => remove(dir));

const MEMBER = "./testdata/file_member";
const bunPath = fileURLToPath(new URL("../node_modules/.bin/bun", import.meta.url));

/** A member process and the payloads it printed. */
interface Member {
  child: ChildProcess;
  got: string[];
  /** Resolves once it has joined. */
  ready: Promise<void>;
  /** Resolves once its stdout has ended. */
  done: Promise<void>;
  stderr: Promise<string>;
}

function startMember(
  path: string,
  group: string,
  mode: "load-balanced" | "resumable",
  delay: number,
  onBun = false,
): Member {
  const args = [path, group, mode, String(delay)];
  const child = onBun
    ? spawnProcess(bunPath, [fileURLToPath(new URL(MEMBER + ".ts", import.meta.url)), ...args])
    : spawnScript(MEMBER, import.meta.url, args);
  const got: string[] = [];
  let joined!: () => void;
  const ready = new Promise<void>((resolve) => joined = resolve);
  const done = (async () => {
    for await (const line of readLines(child.stdout!)) {
      if (line === "ready") joined();
      else got.push(line);
    }
  })();
  return { child, got, ready, done, stderr: readAll(child.stderr) };
}

/** End a member cleanly (close its stdin); it must exit 0. */
async function stopMember(member: Member): Promise<void> {
  await member.child.stdin!.close();
  await member.done;
  const status = await member.child.status;
  assert.equal(status.code, 0, `member failed: ${await member.stderr}`);
}

/** Wait for `done`; on a timeout, fail with what the `members` printed on stderr (they are killed). */
async function until(
  what: string,
  ms: number,
  done: () => boolean,
  members: Member[] = [],
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) {
      for (const member of members) member.child.kill("SIGKILL");
      const errors = await Promise.all(members.map((m) => m.stderr));
      const counts = members.map((m) => m.got.length);
      assert.fail(`timed out: ${what} (received ${counts}; stderr: ${errors.join("\n")})`);
    }
    await sleep(20);
  }
}

async function newFile(
  name: string,
): Promise<{ path: string; producer: Producer; streamer: Streamer; close(): Promise<void> }> {
  const path = `${dir}/${name}.ss`;
  const streamer = await SeaStreamer.connect(`file://${path}`, {
    file: { createIfNotExists: true, beaconInterval: 4096 },
  });
  const producer = await streamer.createProducer("jobs");
  await producer.flush();
  assert.ok((await stat(path)) !== undefined);
  return { path, producer, streamer, close: () => streamer.disconnect() };
}

/** Send `count` numbered payloads in batches (so that every member is at work). */
async function produce(producer: Producer, count: number, from = 0): Promise<string[]> {
  const payloads = Array.from({ length: count }, (_, i) => `m${from + i}`);
  for (let i = 0; i < payloads.length; i += 100) {
    for (const payload of payloads.slice(i, i + 100)) producer.send(payload);
    await producer.flush();
    await sleep(15);
  }
  return payloads;
}

describe("file backend: groups across processes", () => {
  it("load-balanced members in 3 processes: each of 2,000 messages to exactly one, every member gets some", async () => {
    await timeout(
      (async () => {
        const file = await newFile("balanced");
        const group = "workers";
        // Under Deno the third member runs on Bun: one group, mixed runtimes.
        const members = [0, 1, 2].map((i) =>
          startMember(file.path, group, "load-balanced", 1, i === 2 && runtimeName === "deno")
        );
        await Promise.all(members.map((m) => m.ready));
        const payloads = await produce(file.producer, 2_000);
        const total = () => members.reduce((sum, m) => sum + m.got.length, 0);
        await until("every message received", 25_000, () => total() >= payloads.length, members);
        const info = await file.streamer.describeStream("jobs");
        assert.deepEqual(info.groups.map((g) => [g.name, g.members]), [[group, 3]]);
        await sleep(300); // a duplicate would show up now
        await Promise.all(members.map(stopMember));
        const all = members.flatMap((m) => m.got);
        assert.equal(all.length, payloads.length, "a message went to two members");
        assert.deepEqual([...all].sort(), [...payloads].sort());
        for (const [i, member] of members.entries()) {
          assert.ok(
            member.got.length > 0,
            `member ${i} got nothing: ${members.map((m) => m.got.length)}`,
          );
        }
        await file.close();
      })(),
      30_000,
      "the load-balanced run",
    );
  });

  it("a load-balanced member SIGKILLed mid-way: the others take over its share, nothing is lost", async () => {
    await timeout(
      (async () => {
        const file = await newFile("killed");
        const group = "workers";
        const members = [0, 1, 2].map(() => startMember(file.path, group, "load-balanced", 2));
        await Promise.all(members.map((m) => m.ready));
        const sending = produce(file.producer, 2_000);
        const victim = members[0];
        await until("the victim at work", 20_000, () => victim.got.length >= 100);
        victim.child.kill("SIGKILL");
        assert.equal((await victim.child.status).signal, "SIGKILL");
        const killedAt = victim.got.length;
        const payloads = await sending;
        const seen = () => new Set(members.flatMap((m) => m.got));
        await until(
          "the rest received by the others",
          25_000,
          () => seen().size >= payloads.length,
          members.slice(1),
        );
        await Promise.all(members.slice(1).map(stopMember));
        assert.deepEqual([...seen()].sort(), [...payloads].sort(), "a message was lost");
        const survivors = members.slice(1).flatMap((m) => m.got);
        assert.equal(new Set(survivors).size, survivors.length, "a survivor got a message twice");
        assert.ok(members.slice(1).every((m) => m.got.length > 0));
        assert.ok(
          killedAt < payloads.length / 2,
          `the victim took ${killedAt} before it was killed`,
        );
        await file.close();
      })(),
      30_000,
      "the SIGKILL run",
    );
  });

  it("resumable members of one group in processes taking turns: none lost, none replayed after a commit", async () => {
    await timeout(
      (async () => {
        const file = await newFile("turns");
        const payloads = await produce(file.producer, 2_000);
        const runs: string[][] = [];
        // A, B, A again, B again: each stops (cleanly) part-way, the next goes on after its commits.
        for (const [turn, stopAt] of [500, 1_000, 1_500, 2_000].entries()) {
          const member = startMember(file.path, "turns", "resumable", 2);
          await member.ready;
          const before = runs.flat().length;
          await until(`turn ${turn}`, 20_000, () => before + member.got.length >= stopAt, [member]);
          await stopMember(member);
          runs.push(member.got);
        }
        assert.deepEqual(runs.flat(), payloads, "a message was lost or replayed");
        assert.ok(runs.every((run) => run.length > 0));
        await file.close();
      })(),
      30_000,
      "the resumable turns",
    );
  });

  it("resumable members of one group in two processes at once: the slower one's commits do not move the group back", async () => {
    await timeout(
      (async () => {
        const file = await newFile("merged");
        const payloads = await produce(file.producer, 2_000);
        // The fast one first: it starts at the beginning (the slow one, started at once,
        // could have committed before the fast one looked where the group stands).
        const fast = startMember(file.path, "merged", "resumable", 1);
        await fast.ready;
        const slow = startMember(file.path, "merged", "resumable", 8);
        await slow.ready;
        await until("the fast one half-way", 20_000, () => fast.got.length >= 1_000, [fast, slow]);
        await stopMember(fast);
        assert.ok(slow.got.length < fast.got.length, `${slow.got.length} ${fast.got.length}`);
        await stopMember(slow); // commits after the fast one, not as far
        const next = startMember(file.path, "merged", "resumable", 0);
        await next.ready;
        await until(
          "the rest",
          20_000,
          () => next.got.at(-1) === payloads.at(-1),
          [next],
        );
        await stopMember(next);
        assert.deepEqual(
          [...fast.got, ...next.got],
          payloads,
          "the group went back, or on too far",
        );
        await file.close();
      })(),
      30_000,
      "the merged commits",
    );
  });
});
