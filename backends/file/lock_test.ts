/** The file lock (writers, group files): one holder at a time; a lock left by a dead process or too old is broken. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createSymlink,
  hostname,
  makeTempDir,
  pid,
  readSymlink,
  remove,
  sleep,
  spawnProcess,
} from "../../runtime/mod.ts";
import { withLock } from "./lock.ts";

const withGroupLock = <T>(path: string, body: () => Promise<T>) =>
  withLock(path, body, { staleMs: 5_000, timeoutMs: 30_000 });
/** A lock target naming `pid` on this host, taken at `time`. */
const holder = (id: number, time = Date.now()) => `${id}:${time}:${hostname()}:test`;

const dir = await makeTempDir("seastreamer-group-lock-");
after(() => remove(dir));
let files = 0;
const newPath = () => `${dir}/g${++files}.json`;

describe("file backend: the lock", () => {
  it("one holder at a time: bodies do not overlap, and the lock is gone after", async () => {
    const path = newPath();
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 8 }, () =>
      withGroupLock(path, async () => {
        most = Math.max(most, ++inside);
        await sleep(5);
        inside--;
      })));
    assert.equal(most, 1);
    assert.equal(await readSymlink(`${path}.lock`), undefined);
  });

  it("a lock left by a process that died is broken at once", async () => {
    const path = newPath();
    const child = spawnProcess("true", [], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await child.status;
    assert.ok(await createSymlink(holder(child.pid), `${path}.lock`));
    const started = Date.now();
    assert.equal(await withGroupLock(path, () => Promise.resolve("got it")), "got it");
    assert.ok(Date.now() - started < 1_000);
  });

  it("a live holder's lock is waited for; an old one is broken", async () => {
    const path = newPath();
    assert.ok(await createSymlink(holder(pid()), `${path}.lock`));
    let got = false;
    const waiting = withGroupLock(path, () => Promise.resolve(got = true));
    await sleep(100);
    assert.equal(got, false, "took a lock that is held");
    await remove(`${path}.lock`);
    await waiting;
    assert.equal(got, true);

    assert.ok(await createSymlink(holder(pid(), Date.now() - 60_000), `${path}.lock`));
    assert.equal(await withGroupLock(path, () => Promise.resolve(1)), 1);
  });
});
