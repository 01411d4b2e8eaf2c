/**
 * The advisory lock a file's writers take in turn, one batch at a time: a
 * symbolic link beside the file (`<file>.lock`) whose target names the holder
 * (pid, host, time). Creating a link is atomic on every runtime and fails if
 * it exists. A lock whose holder died (its pid is gone on this host) or that
 * is older than {@link STALE_MS} is broken, so a SIGKILLed writer blocks the
 * others only briefly. A group file's lock (offsets.ts) is the same, with
 * {@link withLock}.
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
  renamePath,
  signalProcess,
  sleep,
  stat,
} from "../../runtime/mod.ts";

/**
 * How long a lock counts as held at most (a holder on another host cannot be
 * asked whether it lives; a batch is written in far less).
 */
export const STALE_MS = 30_000;
/** How long a writer waits for a live holder before giving up. */
export const LOCK_TIMEOUT_MS = 60_000;
/** The longest pause between two tries of a waiter. */
const MAX_POLL_MS = 16;
/** How long a writer keeps the lock across back-to-back batches before it takes it afresh, ms. */
export const HOLD_MS = 20;
/** How long a holder handing the lock over waits: longer than a waiter's longest pause, ms. */
const HANDOVER_MS = 2 * MAX_POLL_MS;

/** A holder as its lock names it. */
interface Holder {
  pid: number;
  host: string;
  time: number;
}

function parseHolder(target: string): Holder | undefined {
  const [pidText, time, ...host] = target.split(":");
  const holder = { pid: Number(pidText), time: Number(time), host: host.join(":") };
  return Number.isSafeInteger(holder.pid) && Number.isFinite(holder.time) ? holder : undefined;
}

/**
 * Whether the holder named by `target` can no longer be holding the lock: its
 * pid is gone on this host, or it took the lock over `staleMs` ago (a holder
 * on another host cannot be asked; one that hung holds nothing for good).
 */
function isStale(target: string, staleMs: number): boolean {
  const holder = parseHolder(target.replace(/:[^:]*$/, "")); // drop the random tag
  if (holder === undefined) return true; // not a lock of ours: nobody will remove it
  if (holder.host === hostname() && !processAlive(holder.pid)) return true;
  return Date.now() - holder.time > staleMs;
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

/**
 * Run `body` holding the lock of `path` (taken for a short read-modify-write,
 * such as a group file's: a holder older than `staleMs` is broken).
 */
export async function withLock<T>(
  path: string,
  body: () => Promise<T>,
  { staleMs = STALE_MS, timeoutMs = LOCK_TIMEOUT_MS } = {},
): Promise<T> {
  const lock = new FileLock(path, staleMs);
  await lock.acquire(timeoutMs);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

/**
 * The write lock of one file.
 *
 * @example
 * ```ts ignore
 * const lock = new FileLock("data.ss");
 * await lock.acquire();
 * try {
 *   // append a batch
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export class FileLock {
  /** The file it guards. */
  readonly dataPath: string;
  /** The lock's own path. */
  readonly path: string;
  /** Where a waiter leaves its mark (`<file>.lock.want`), for a holder to hand the lock over. */
  readonly wantPath: string;
  readonly #staleMs: number;
  #token: string | undefined;
  #takenAt = 0;

  /** The lock of `dataPath`; a holder older than `staleMs` counts as gone. */
  constructor(dataPath: string, staleMs = STALE_MS) {
    this.dataPath = dataPath;
    this.path = `${dataPath}.lock`;
    this.wantPath = `${dataPath}.lock.want`;
    this.#staleMs = staleMs;
  }

  /**
   * Take the lock, waiting for a live holder (up to `timeoutMs`, then
   * `StreamError("Timeout")`) and breaking a dead one's. Where no lock can be
   * made (a read-only directory), `StreamError("Runtime")`.
   */
  async acquire(timeoutMs = LOCK_TIMEOUT_MS): Promise<void> {
    const token = `${pid()}:${Date.now()}:${hostname()}:${Math.random().toString(36).slice(2)}`;
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    let wanting = false;
    for (;;) {
      let created: boolean;
      try {
        created = await createSymlink(token, this.path);
      } catch (error) {
        throw new StreamError(
          "Runtime",
          `cannot lock ${this.dataPath} for writing (${(error as Error).message})`,
          { cause: error },
        );
      }
      if (created) {
        this.#token = token;
        if (wanting) await this.#withdraw(token);
        return;
      }
      const holder = await readSymlink(this.path);
      if (holder === undefined && (await stat(this.path)) !== undefined) {
        throw new StreamError(
          "Runtime",
          `cannot lock ${this.dataPath} for writing: ${this.path} exists and is not a lock`,
        );
      }
      if (holder !== undefined && isStale(holder, this.#staleMs)) {
        await this.#breakStale(holder);
        continue;
      }
      if (Date.now() >= deadline) {
        if (wanting) await this.#withdraw(token);
        throw new StreamError(
          "Timeout",
          `cannot lock ${this.dataPath} for writing: ${this.path} is held by ${holder} for over ${timeoutMs} ms`,
        );
      }
      // Tell a holder that keeps the lock across batches that someone waits (one mark at a
      // time; made again if a holder took it for a dead waiter's).
      if (await createSymlink(token, this.wantPath).catch(() => false)) wanting = true;
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_POLL_MS);
    }
  }

  /** Remove this waiter's mark (`token`), if it is still there. */
  async #withdraw(token: string): Promise<void> {
    if ((await readSymlink(this.wantPath)) === token) await remove(this.wantPath);
  }

  /**
   * Whether another writer waits for the lock (a waiter that died is not
   * waiting: its mark is removed).
   */
  async wanted(): Promise<boolean> {
    const waiter = await readSymlink(this.wantPath);
    if (waiter === undefined) return false;
    if (!isStale(waiter, this.#staleMs)) return true;
    await remove(this.wantPath);
    return false;
  }

  /** Whether this object holds the lock. */
  get held(): boolean {
    return this.#token !== undefined;
  }

  /**
   * Hold the lock for a batch: kept from the batch before for up to
   * {@link HOLD_MS}; then taken afresh (its age tells other hosts its holder
   * lives), after a pause that lets a waiting writer in. True if it was taken
   * (others may have written since this holder last did).
   */
  async hold(): Promise<boolean> {
    if (this.#token !== undefined) {
      if (Date.now() - this.#takenAt < HOLD_MS) return false;
      const wanted = await this.wanted();
      await this.release();
      if (wanted) await sleep(HANDOVER_MS);
    }
    await this.acquire();
    this.#takenAt = Date.now();
    return true;
  }

  /** Give the lock back (if it is still ours). */
  async release(): Promise<void> {
    const token = this.#token;
    this.#token = undefined;
    if (token !== undefined && (await readSymlink(this.path)) === token) await remove(this.path);
  }

  /**
   * Remove a dead holder's lock. It is moved aside first (atomically, so two
   * writers breaking it at once cannot remove a fresh lock taken in between);
   * if what was moved is not the dead lock after all, it is put back.
   */
  async #breakStale(holder: string): Promise<void> {
    const aside = `${this.path}.${pid()}.${Math.random().toString(36).slice(2)}.stale`;
    if (!(await renamePath(this.path, aside))) return;
    const moved = await readSymlink(aside);
    if (moved !== holder && moved !== undefined) await createSymlink(moved, this.path);
    await remove(aside);
  }
}
