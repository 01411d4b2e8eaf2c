/**
 * Where a resumable group stands: the last committed seq of each (stream,
 * shard), kept in a small JSON file beside the stream file
 * (`data.ss.group-<name>.json`), replaced atomically (write, sync, rename) so
 * that a crash leaves the old state or the new, never a mix. Commits made
 * while a save is under way are saved together by the next one.
 *
 * @module
 */
import type { MessageHeader, StreamKey } from "../../types.ts";
import { StreamError } from "../../types.ts";
import { readFile, writeFileAtomic } from "../../runtime/mod.ts";
import type { FileHeader } from "./format.ts";

const FORMAT = "seastreamer-file-group";

/** The JSON kept for a group. */
interface GroupFile {
  format: typeof FORMAT;
  version: 1;
  /** The stream file it belongs to, to ignore a group file left by an earlier file of the same name. */
  file: { name: string; createdAt: number };
  group: string;
  /** "stream/shard" -> last committed seq, as a decimal string. */
  committed: Record<string, string>;
}

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
  readonly #group: string;
  readonly #file: { name: string; createdAt: number };
  #dirty = false;
  #saving: Promise<void> | undefined;

  private constructor(
    path: string,
    group: string,
    header: FileHeader,
    committed: Map<string, bigint>,
  ) {
    this.path = path;
    this.#group = group;
    this.#file = { name: header.fileName, createdAt: header.createdAt };
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
    const bytes = await readFile(file);
    if (bytes !== undefined) {
      let data: GroupFile;
      try {
        data = JSON.parse(new TextDecoder().decode(bytes));
      } catch (error) {
        throw new StreamError("Backend", `${file}: not valid JSON`, { cause: error });
      }
      const sameFile = data?.format === FORMAT && data.file?.name === header.fileName &&
        data.file?.createdAt === header.createdAt;
      if (sameFile) {
        for (const [slot, seq] of Object.entries(data.committed ?? {})) {
          if (typeof seq === "string" && /^\d+$/.test(seq)) committed.set(slot, BigInt(seq));
        }
      }
    }
    return new GroupOffsets(file, group, header, committed);
  }

  /** Record `header` as committed (in memory); call {@link save} to keep it. */
  set(header: MessageHeader): void {
    this.committed.set(slotKey(header.streamKey, header.shardId), header.seqNo);
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
        const data: GroupFile = {
          format: FORMAT,
          version: 1,
          file: this.#file,
          group: this.#group,
          committed: Object.fromEntries(
            [...this.committed].map(([slot, seq]) => [slot, seq.toString()]),
          ),
        };
        await writeFileAtomic(this.path, JSON.stringify(data, null, 1) + "\n");
      }
    } finally {
      this.#saving = undefined;
    }
  }
}
