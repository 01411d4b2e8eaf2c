/**
 * Files: open, positional read, append, stat, atomic replace, and watching for growth.
 *
 * @module
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { StreamError } from "../types.ts";
import { sleep } from "./timers.ts";
import { runtimeName } from "./detect.ts";
import { openDenoFile } from "./fs_deno.ts";
import { fsError } from "./fs_error.ts";
import { plainView } from "./bytes.ts";

/**
 * How to open a file.
 *
 * @example
 * ```ts
 * import {
 *   makeTempDir,
 *   openFile,
 *   type OpenOptions,
 *   remove,
 * } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const options: OpenOptions = { createNew: true }; // only if the file does not exist yet
 * await (await openFile(`${dir}/lock`, options)).close();
 * await openFile(`${dir}/lock`, options).catch((error) => console.log(error.code)); // Runtime
 * await remove(dir);
 * ```
 */
export interface OpenOptions {
  /** Open for writing (appending at the end). */
  write?: boolean;
  /** Create the file if it is missing (implies `write`). */
  create?: boolean;
  /** Fail if the file exists; create it (implies `write`). */
  createNew?: boolean;
}

/**
 * What {@link stat} reports.
 *
 * @example
 * ```ts
 * import {
 *   type FileInfo,
 *   makeTempDir,
 *   remove,
 *   stat,
 *   writeFile,
 * } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFile(`${dir}/a.txt`, "hi");
 * const info: FileInfo | undefined = await stat(`${dir}/a.txt`);
 * console.log(info?.size, info?.isFile); // 2 true
 * await remove(dir);
 * ```
 */
export interface FileInfo {
  /** Size in bytes. */
  size: number;
  /** Last modification, in ms since the epoch. */
  mtimeMs: number;
  /** Whether it is a regular file. */
  isFile: boolean;
}

/**
 * An open file. Reads are positional; writes append at the end.
 *
 * @example
 * ```ts
 * import { makeTempDir, type OpenFile, openFile, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const file: OpenFile = await openFile(`${dir}/log.bin`, { create: true });
 * await file.append(new TextEncoder().encode("hello world"));
 * const buffer = new Uint8Array(5);
 * const read = await file.read(buffer, 6); // positional: from byte 6
 * console.log(read, new TextDecoder().decode(buffer)); // 5 world
 * await file.close();
 * await remove(dir);
 * ```
 */
export interface OpenFile {
  /** The path it was opened with. */
  readonly path: string;
  /** Read into `buffer` from byte `position`; the number of bytes read (0 at the end). */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Append all of `bytes`. */
  append(bytes: Uint8Array): Promise<void>;
  /** Write all of `bytes` at byte `position` (overwriting what is there, growing the file). */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Cut the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** The file's current size. */
  size(): Promise<number>;
  /** Flush the OS's buffers to the disk. */
  sync(): Promise<void>;
  /** Close it. */
  close(): Promise<void>;
}

/**
 * Open `path`. A missing file (without `create`) is `StreamError("StreamKeyNotFound")`,
 * an existing one with `createNew` is `StreamError("Runtime")`.
 *
 * @example
 * ```ts
 * import { makeTempDir, openFile, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const file = await openFile(`${dir}/a.bin`, { create: true });
 * await file.append(new Uint8Array([1, 2, 3]));
 * console.log(await file.size()); // 3
 * await file.close();
 * await remove(dir);
 * ```
 */
export async function openFile(path: string, options: OpenOptions = {}): Promise<OpenFile> {
  if (runtimeName === "deno") return await openDenoFile(path, options);
  const flags = options.createNew ? "ax+" : options.create ? "a+" : options.write ? "r+" : "r";
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, flags);
  } catch (error) {
    throw fsError("cannot open", path, error);
  }
  const appending = flags.startsWith("a");
  let end = -1; // append position for files opened r+ (writes at the end by hand)
  return {
    path,
    async read(buffer, position) {
      try {
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
        return bytesRead;
      } catch (error) {
        throw fsError("cannot read", path, error);
      }
    },
    async append(bytes) {
      try {
        if (appending) {
          let offset = 0;
          while (offset < bytes.byteLength) {
            const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
            offset += bytesWritten;
          }
        } else {
          if (end < 0) end = (await handle.stat()).size;
          let offset = 0;
          while (offset < bytes.byteLength) {
            const { bytesWritten } = await handle.write(
              bytes,
              offset,
              bytes.byteLength - offset,
              end,
            );
            offset += bytesWritten;
            end += bytesWritten;
          }
        }
      } catch (error) {
        throw fsError("cannot write", path, error);
      }
    },
    async write(bytes, position) {
      if (appending) {
        throw new StreamError(
          "Runtime",
          `cannot write at a position in ${path}: it was opened to append (use write: true)`,
        );
      }
      try {
        let offset = 0;
        while (offset < bytes.byteLength) {
          const { bytesWritten } = await handle.write(
            bytes,
            offset,
            bytes.byteLength - offset,
            position + offset,
          );
          offset += bytesWritten;
        }
        if (end >= 0) end = Math.max(end, position + offset);
      } catch (error) {
        throw fsError("cannot write", path, error);
      }
    },
    async truncate(length) {
      try {
        await handle.truncate(length);
        end = -1;
      } catch (error) {
        throw fsError("cannot truncate", path, error);
      }
    },
    async size() {
      try {
        return (await handle.stat()).size;
      } catch (error) {
        throw fsError("cannot stat", path, error);
      }
    },
    async sync() {
      try {
        await handle.sync();
      } catch (error) {
        throw fsError("cannot sync", path, error);
      }
    },
    async close() {
      await handle.close().catch(() => {});
    },
  };
}

/**
 * Information about `path`, or `undefined` if it does not exist.
 *
 * @example
 * ```ts
 * import { stat } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(await stat("/no/such/file")); // undefined
 * ```
 */
export async function stat(path: string): Promise<FileInfo | undefined> {
  try {
    const info = await fsp.stat(path);
    return { size: info.size, mtimeMs: info.mtimeMs, isFile: info.isFile() };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw fsError("cannot stat", path, error);
  }
}

/**
 * The whole content of `path`, or `undefined` if it does not exist.
 *
 * @example
 * ```ts
 * import { makeTempDir, readFile, remove, writeFile } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFile(`${dir}/a.txt`, "hello");
 * console.log(new TextDecoder().decode(await readFile(`${dir}/a.txt`))); // hello
 * console.log(await readFile(`${dir}/missing.txt`)); // undefined
 * await remove(dir);
 * ```
 */
export async function readFile(path: string): Promise<Uint8Array | undefined> {
  try {
    const data = await fsp.readFile(path);
    return plainView(data);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw fsError("cannot read", path, error);
  }
}

/**
 * The names in the directory `path`, sorted; a missing directory has none.
 *
 * @example
 * ```ts
 * import { makeTempDir, readDir, remove, writeFile } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFile(`${dir}/b.txt`, "b");
 * await writeFile(`${dir}/a.txt`, "a");
 * console.log((await readDir(dir)).join(" ")); // a.txt b.txt
 * await remove(dir);
 * ```
 */
export async function readDir(path: string): Promise<string[]> {
  try {
    return (await fsp.readdir(path)).sort();
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return [];
    throw fsError("cannot list", path, error);
  }
}

/**
 * Replace `path` with `data` atomically: a reader sees the old content or the
 * new, never a mix, even if the process dies half-way (write a temp file, sync, rename).
 *
 * @example Saving state that must survive a crash
 * ```ts
 * import {
 *   makeTempDir,
 *   readFile,
 *   remove,
 *   writeFileAtomic,
 * } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFileAtomic(`${dir}/state.json`, JSON.stringify({ committed: 41 }));
 * await writeFileAtomic(`${dir}/state.json`, JSON.stringify({ committed: 42 }));
 * const state = JSON.parse(new TextDecoder().decode(await readFile(`${dir}/state.json`)));
 * console.log(state); // { committed: 42 }
 * await remove(dir);
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${Date.now().toString(36)}${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const handle = await fsp.open(temp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, path);
  } catch (error) {
    await fsp.rm(temp, { force: true }).catch(() => {});
    throw fsError("cannot write", path, error);
  }
}

/**
 * Write `data` to `path`, replacing it.
 *
 * @example
 * ```ts
 * import { makeTempDir, remove, stat, writeFile } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFile(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
 * await writeFile(`${dir}/a.bin`, "replaced");
 * console.log((await stat(`${dir}/a.bin`))?.size); // 8
 * await remove(dir);
 * ```
 */
export async function writeFile(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await fsp.writeFile(path, data);
  } catch (error) {
    throw fsError("cannot write", path, error);
  }
}

/**
 * Remove a file or a directory tree; nothing happens if it does not exist.
 *
 * @example
 * ```ts
 * import { makeTempDir, remove, stat } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await remove(dir);
 * console.log(await stat(dir)); // undefined
 * await remove(dir); // already gone: nothing happens
 * ```
 */
export async function remove(path: string): Promise<void> {
  try {
    await fsp.rm(path, { recursive: true, force: true });
  } catch (error) {
    throw fsError("cannot remove", path, error);
  }
}

/**
 * Create a directory and its parents.
 *
 * @example
 * ```ts
 * import { joinPath, makeDir, makeTempDir, remove, stat } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await makeDir(joinPath(dir, "streams", "2026"));
 * console.log((await stat(joinPath(dir, "streams", "2026")))?.isFile); // false: a directory
 * await remove(dir);
 * ```
 */
export async function makeDir(path: string): Promise<void> {
  try {
    await fsp.mkdir(path, { recursive: true });
  } catch (error) {
    throw fsError("cannot create directory", path, error);
  }
}

/**
 * Create a fresh directory under the system's temp directory; its path.
 *
 * @example
 * ```ts
 * import { baseName, makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir("orders-");
 * console.log(baseName(dir).startsWith("orders-")); // true
 * await remove(dir);
 * ```
 */
export async function makeTempDir(prefix = "seastreamer-"): Promise<string> {
  try {
    return await fsp.mkdtemp(join(tmpdir(), prefix));
  } catch (error) {
    throw fsError("cannot create temp directory in", tmpdir(), error);
  }
}

/**
 * Resolve when `path` may have changed (written, grown, removed), or after
 * `pollMs` at most: file-system events where the OS gives them, a poll in any
 * case (events do not cross every file system or container). Rejects with the
 * signal's reason on abort.
 *
 * @example
 * ```ts
 * import { makeTempDir, remove, waitForChange, writeFile } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFile(`${dir}/f`, "a");
 * await waitForChange(`${dir}/f`, { pollMs: 20 });
 * await remove(dir);
 * ```
 */
export async function waitForChange(
  path: string,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", abort, { once: true });
  let watcher: fs.FSWatcher | undefined;
  try {
    const changed = new Promise<void>((resolve) => {
      try {
        watcher = fs.watch(path, { persistent: false }, () => resolve());
        watcher.on("error", () => resolve());
      } catch {
        // No events here (missing file, unsupported file system): the poll covers it.
      }
    });
    await Promise.race([changed, sleep(options.pollMs ?? 100, controller.signal).catch(() => {})]);
    if (options.signal?.aborted) throw options.signal.reason;
  } finally {
    watcher?.close();
    options.signal?.removeEventListener("abort", abort);
    controller.abort();
  }
}

/**
 * `path` made absolute against the current directory (no file-system access:
 * symbolic links are kept).
 *
 * @example
 * ```ts
 * import { resolvePath } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(resolvePath("/tmp/a/../b.ss")); // /tmp/b.ss
 * ```
 */
export function resolvePath(path: string): string {
  return resolve(path);
}

/**
 * The last part of `path` (the file name).
 *
 * @example
 * ```ts
 * import { baseName } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(baseName("/tmp/data.ss")); // data.ss
 * ```
 */
export function baseName(path: string): string {
  return basename(path);
}

/**
 * Join path segments with the platform's separator.
 *
 * @example
 * ```ts
 * import { joinPath } from "@seastreamer/seastreamer/runtime";
 *
 * console.log(joinPath("/var/data", "streams", "orders.ss")); // /var/data/streams/orders.ss
 * ```
 */
export function joinPath(...parts: string[]): string {
  return join(...parts);
}

/**
 * Create a symbolic link at `path` pointing to `target`, atomically: false if
 * `path` already exists (the link is the lock a file's writers take in turn).
 *
 * @example
 * ```ts
 * import { createSymlink, makeTempDir, readSymlink, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * console.log(await createSymlink("holder-1", `${dir}/a.lock`)); // true
 * console.log(await createSymlink("holder-2", `${dir}/a.lock`)); // false: taken
 * console.log(await readSymlink(`${dir}/a.lock`)); // holder-1
 * await remove(dir);
 * ```
 */
export async function createSymlink(target: string, path: string): Promise<boolean> {
  try {
    await fsp.symlink(target, path);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw fsError("cannot create", path, error);
  }
}

/**
 * The target of the symbolic link at `path`; `undefined` if there is none.
 *
 * @example
 * ```ts
 * import { makeTempDir, readSymlink, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * console.log(await readSymlink(`${dir}/missing.lock`)); // undefined
 * await remove(dir);
 * ```
 */
export async function readSymlink(path: string): Promise<string | undefined> {
  try {
    return await fsp.readlink(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "EINVAL") return undefined;
    throw fsError("cannot read", path, error);
  }
}

/**
 * Rename `from` to `to` atomically; false if `from` does not exist.
 *
 * @example
 * ```ts
 * import { makeTempDir, remove, renamePath, stat, writeFile } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * await writeFile(`${dir}/a`, "x");
 * console.log(await renamePath(`${dir}/a`, `${dir}/b`), (await stat(`${dir}/b`))?.size); // true 1
 * console.log(await renamePath(`${dir}/a`, `${dir}/c`)); // false
 * await remove(dir);
 * ```
 */
export async function renamePath(from: string, to: string): Promise<boolean> {
  try {
    await fsp.rename(from, to);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return false;
    throw fsError("cannot rename", from, error);
  }
}
