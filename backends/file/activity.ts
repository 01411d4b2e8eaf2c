/**
 * In-process wake-ups: a writer says "I wrote to this file", readers of the
 * same file in this process wake at once instead of waiting for the file
 * system's events (which still serve readers in other processes).
 *
 * @module
 */

const listeners = new Map<string, Set<() => void>>();

/** Call `listener` once, the next time `path` (an absolute path) is written in this process; returns a cancel function. */
export function onceWritten(path: string, listener: () => void): () => void {
  let set = listeners.get(path);
  if (!set) {
    set = new Set();
    listeners.set(path, set);
  }
  set.add(listener);
  return () => {
    const current = listeners.get(path);
    if (!current) return;
    current.delete(listener);
    if (current.size === 0) listeners.delete(path);
  };
}

/** Tell this process's readers of `path` that it has new bytes. */
export function notifyWritten(path: string): void {
  const set = listeners.get(path);
  if (!set) return;
  listeners.delete(path);
  for (const listener of set) listener();
}
