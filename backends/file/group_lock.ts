/**
 * The lock of a group's state file, shared by processes: a symbolic link
 * `<group file>.lock` whose target names the holder (`pid@host@ms`). Creating
 * a link fails if it exists, on Deno, Node and Bun alike, so whoever creates it
 * holds the lock. It is held for one read-modify-write of the group file (a few
 * milliseconds); a lock whose holder died (same host, no such pid) or that is
 * older than {@link STALE_MS} is broken.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import {
  createSymlink,
  hostname,
  pid,
  readSymlink,
  remove,
  signalProcess,
  sleep,
} from "../../runtime/mod.ts";

/** A lock held longer than this is taken to be left by a process that hung or died elsewhere. */
const STALE_MS = 5_000;
/** Give up waiting for the lock after this long (something is wrong with the directory). */
const GIVE_UP_MS = 30_000;

/** Run `body` holding the lock of the group file `path`. */
export async function withGroupLock<T>(path: string, body: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const host = hostname();
  const deadline = Date.now() + GIVE_UP_MS;
  let wait = 1;
  let me = `${pid()}@${host}@${Date.now()}`;
  while (!(await createSymlink(me, lock))) {
    const holder = await readSymlink(lock);
    if (holder !== undefined && isStale(holder, host)) {
      // Look again just before removing, so a fresh lock taken meanwhile is left alone.
      if ((await readSymlink(lock)) === holder) await remove(lock);
      continue;
    }
    if (Date.now() > deadline) {
      throw new StreamError("Timeout", `${lock}: the group's lock is held by ${holder}`);
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 16);
    me = `${pid()}@${host}@${Date.now()}`;
  }
  try {
    return await body();
  } finally {
    if ((await readSymlink(lock).catch(() => undefined)) === me) await remove(lock);
  }
}

/** Whether the lock `holder` (`pid@host@ms`) is left by a dead process or too old. */
function isStale(holder: string, host: string): boolean {
  const [pidText, holderHost, msText] = holder.split("@");
  const since = Number(msText);
  if (!Number.isFinite(since) || Date.now() - since > STALE_MS) return true;
  return holderHost === host && !processAlive(Number(pidText));
}

/** Whether the process `id` on this host is running. */
export function processAlive(id: number): boolean {
  if (!Number.isInteger(id) || id <= 0) return false;
  try {
    return signalProcess(id, 0);
  } catch {
    return true; // EPERM: it exists, under another user
  }
}
