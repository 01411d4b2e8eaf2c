/**
 * A group's state, shared by processes: a small JSON file beside the stream
 * file (`data.ss.group-<name>.json`) holding a resumable group's last committed
 * seq of each (stream, shard) and a load-balanced group's members and claims
 * (see balancer.ts). Every change is a read-modify-write under the group's
 * lock (lock.ts), replaced atomically (write, sync, rename) so that a
 * crash leaves the old state or the new, never a mix. Commits made while a
 * save is under way are saved together by the next one; commits of several
 * processes merge (the furthest per shard wins).
 *
 * @module
 */
import type { MessageHeader, StreamKey } from "../../types.ts";
import { StreamError } from "../../types.ts";
import { readFile, writeFileAtomic } from "../../runtime/mod.ts";
import type { FileHeader } from "./format.ts";
import { withLock } from "./lock.ts";

const FORMAT = "seastreamer-file-group";

/** A load-balanced member not heard of for this long is dead (see balancer.ts). */
export const MEMBER_DEAD_MS = 4_000;

/** A load-balanced member, as registered in the group file. */
export interface MemberEntry {
  pid: number;
  host: string;
  /** When it last said it is alive (ms since the epoch). */
  beat: number;
}

/** A byte range of the stream file claimed by a load-balanced member. */
export interface ClaimEntry {
  /** The claim's first byte (a message boundary). */
  start: number;
  /** Its end: the next claim starts here. */
  end: number;
  /** Everything before this is committed (a message boundary, or `start`). */
  done: number;
  /** `done` lies in a damaged region: resynchronise from there. */
  resync?: boolean;
  /** Its member; a claim whose member is gone is taken by another. */
  member?: string;
}

/** The JSON kept for a group. */
export interface GroupFile {
  format: typeof FORMAT;
  version: 1;
  /** The stream file it belongs to, to ignore a group file left by an earlier file of the same name. */
  file: { name: string; createdAt: number };
  group: string;
  /** "stream/shard" -> last committed seq, as a decimal string. */
  committed: Record<string, string>;
  /** Load-balanced members by id. */
  members?: Record<string, MemberEntry>;
  /** Where the next claim starts; claimed ranges not all committed. */
  cursor?: number;
  /** `cursor` lies in a damaged region: resynchronise from there. */
  resync?: boolean;
  claims?: ClaimEntry[];
  /** The stream file has an end-of-stream message before `cursor`. */
  ended?: boolean;
}

/** Parse a group file; `undefined` if missing or of another stream file. */
async function readGroupFile(file: string, header: FileHeader): Promise<GroupFile | undefined> {
  const bytes = await readFile(file);
  if (bytes === undefined) return undefined;
  let data: GroupFile;
  try {
    data = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new StreamError("Backend", `${file}: not valid JSON`, { cause: error });
  }
  const sameFile = data?.format === FORMAT && data.file?.name === header.fileName &&
    data.file?.createdAt === header.createdAt;
  return sameFile ? data : undefined;
}

/**
 * Change the group file of `group` on the stream file `path` (with header
 * `header`) under the group's lock: `change` gets the current state (a fresh
 * one if there is none) and changes it in place; it is written back unless
 * `change` returns false. Returns what `change` returned.
 */
export function updateGroupFile<T>(
  path: string,
  group: string,
  header: FileHeader,
  change: (data: GroupFile) => T | Promise<T>,
): Promise<T> {
  const file = groupFilePath(path, group);
  return withLock(file, async () => {
    const data = (await readGroupFile(file, header)) ?? {
      format: FORMAT,
      version: 1,
      file: { name: header.fileName, createdAt: header.createdAt },
      group,
      committed: {},
    };
    data.committed ??= {};
    const result = await change(data);
    if (result !== false) await writeFileAtomic(file, JSON.stringify(data, null, 1) + "\n");
    return result;
  }, GROUP_LOCK);
}

/** A group file is changed in milliseconds: a lock held for 5 s was left by a hung process. */
const GROUP_LOCK = { staleMs: 5_000, timeoutMs: 30_000 };

/** The key of a (stream, shard) in a group file. */
export function slotKey(streamKey: StreamKey, shardId: number): string {
  return `${streamKey}/${shardId}`;
}

/**
 * The group file's path for `group` of the stream file `path`. Characters
 * other than `[A-Za-z0-9._-]` are %-escaped (as UTF-8), so any group name makes
 * one safe file name.
 *
 * @example Where a resumable group's commits are kept
 * ```ts
 * import { groupFilePath } from "@seastreamer/seastreamer/file";
 *
 * console.log(groupFilePath("/data/orders.ss", "billing team")); // /data/orders.ss.group-billing%20team.json
 * ```
 */
export function groupFilePath(path: string, group: string): string {
  const safe = Array.from(new TextEncoder().encode(group), (byte) => {
    const c = String.fromCharCode(byte);
    return /[A-Za-z0-9._-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
  return `${path}.group-${safe}.json`;
}

/** A resumable group's committed positions, loaded from and saved to its group file. */
export class GroupOffsets {
  /** The group file's path. */
  readonly path: string;
  /** "stream/shard" -> last committed seq. */
  readonly committed: Map<string, bigint>;
  /** The load-balanced members that beat lately, when loaded. */
  members = 0;
  readonly #streamPath: string;
  readonly #group: string;
  readonly #header: FileHeader;
  /** Slots set by `resetGroup`: they replace the saved seq instead of merging with it. */
  readonly #forced = new Set<string>();
  #dirty = false;
  #saving: Promise<void> | undefined;

  private constructor(
    streamPath: string,
    group: string,
    header: FileHeader,
    committed: Map<string, bigint>,
  ) {
    this.path = groupFilePath(streamPath, group);
    this.#streamPath = streamPath;
    this.#group = group;
    this.#header = header;
    this.committed = committed;
  }

  /**
   * The positions of `group` on the stream file `path` (whose header is
   * `header`); empty if the group has none, or if they belong to an earlier
   * file of the same name.
   */
  static async load(path: string, group: string, header: FileHeader): Promise<GroupOffsets> {
    const file = groupFilePath(path, group);
    const committed = new Map<string, bigint>();
    const data = await readGroupFile(file, header);
    for (const [slot, seq] of Object.entries(data?.committed ?? {})) {
      if (typeof seq === "string" && /^\d+$/.test(seq)) committed.set(slot, BigInt(seq));
    }
    const offsets = new GroupOffsets(path, group, header, committed);
    const now = Date.now();
    offsets.members = Object.values(data?.members ?? {})
      .filter((member) => now - member.beat <= MEMBER_DEAD_MS).length;
    return offsets;
  }

  /**
   * Record `header` as committed (in memory); call {@link save} to keep it.
   * `force` (a reset): replace the saved position even if it is further on.
   */
  set(header: MessageHeader, force = false): void {
    const slot = slotKey(header.streamKey, header.shardId);
    this.committed.set(slot, header.seqNo);
    if (force) this.#forced.add(slot);
    this.#dirty = true;
  }

  /** Resolves once everything recorded so far is on the disk. */
  save(): Promise<void> {
    if (!this.#dirty) return this.#saving ?? Promise.resolve();
    if (this.#saving === undefined) {
      this.#saving = this.#saveLoop();
      this.#saving.catch((error) => this.#onBackgroundError?.(error));
    }
    return this.#saving;
  }

  /** Save soon, without waiting; a failure goes to `onError` (once per failed save). */
  saveInBackground(onError: (error: unknown) => void): void {
    this.#onBackgroundError = onError;
    if (this.#dirty && this.#saving === undefined) this.save();
  }

  #onBackgroundError: ((error: unknown) => void) | undefined;

  async #saveLoop(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        const forced = new Set(this.#forced);
        this.#forced.clear();
        await updateGroupFile(this.#streamPath, this.#group, this.#header, (data) => {
          for (const [slot, seq] of this.committed) {
            const saved = data.committed[slot];
            // Another process may have committed further: keep the furthest.
            if (forced.has(slot) || saved === undefined || BigInt(saved) < seq) {
              data.committed[slot] = seq.toString();
            }
          }
        });
      }
    } finally {
      this.#saving = undefined;
    }
  }
}
