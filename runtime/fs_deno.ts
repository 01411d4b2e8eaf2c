/**
 * Deno's own file handles behind the {@link OpenFile} interface. Deno runs
 * node:fs/promises reads and writes on the main thread; its `Deno.FsFile`
 * calls run on a thread pool, so reading or writing a file overlaps with the
 * JavaScript that encodes or decodes it (measured: a 256 KiB write holds the
 * main thread ~70 µs through node:fs, ~10 µs through Deno.FsFile).
 *
 * @module
 */
import type { OpenFile, OpenOptions } from "./fs.ts";
import { fsError } from "./fs_error.ts";

/** Open `path` with Deno's API (see `openFile`). */
export async function openDenoFile(path: string, options: OpenOptions): Promise<OpenFile> {
  const appending = Boolean(options.create || options.createNew);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, {
      read: true,
      write: Boolean(options.write || appending),
      append: appending,
      create: Boolean(options.create),
      createNew: Boolean(options.createNew),
    });
  } catch (error) {
    throw fsError("cannot open", path, error);
  }
  // A handle has one position: positional reads and writes seek first, one operation at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(operation: () => Promise<T>): Promise<T> => {
    const run = queue.then(operation);
    queue = run.catch(() => {});
    return run;
  };
  let closed = false;
  return {
    path,
    read(buffer, position) {
      return serial(async () => {
        try {
          await file.seek(position, Deno.SeekMode.Start);
          let got = 0;
          while (got < buffer.byteLength) {
            const n = await file.read(buffer.subarray(got));
            if (n === null || n === 0) break;
            got += n;
          }
          return got;
        } catch (error) {
          throw fsError("cannot read", path, error);
        }
      });
    },
    append(bytes) {
      return serial(async () => {
        try {
          if (!appending) await file.seek(0, Deno.SeekMode.End);
          let offset = 0;
          while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
        } catch (error) {
          throw fsError("cannot write", path, error);
        }
      });
    },
    write(bytes, position) {
      return serial(async () => {
        if (appending) {
          throw fsError(
            "cannot write at a position in",
            path,
            new Error("it was opened to append (use write: true)"),
          );
        }
        try {
          await file.seek(position, Deno.SeekMode.Start);
          let offset = 0;
          while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
        } catch (error) {
          throw fsError("cannot write", path, error);
        }
      });
    },
    truncate(length) {
      return serial(async () => {
        try {
          await file.truncate(length);
        } catch (error) {
          throw fsError("cannot truncate", path, error);
        }
      });
    },
    size() {
      return serial(async () => {
        try {
          return (await file.stat()).size;
        } catch (error) {
          throw fsError("cannot stat", path, error);
        }
      });
    },
    sync() {
      return serial(async () => {
        try {
          await file.sync();
        } catch (error) {
          throw fsError("cannot sync", path, error);
        }
      });
    },
    async close() {
      await queue;
      if (closed) return;
      closed = true;
      try {
        file.close();
      } catch {
        // Already closed.
      }
    },
  };
}
