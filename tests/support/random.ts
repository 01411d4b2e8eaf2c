/**
 * A seeded pseudo-random generator for property tests: the same seed gives the
 * same cases on every runtime, so a failure can be replayed. Set FUZZ_SEED to
 * replay one.
 *
 * @module
 */
import { getEnv } from "../../runtime/mod.ts";

/** The seed of this run (FUZZ_SEED, or a fixed default so CI is repeatable). */
export const seed: number = Number(getEnv("FUZZ_SEED") ?? 0x5eed);

/** A small, fast generator (mulberry32). */
export class Random {
  #state: number;

  /** A generator starting at `seedValue`. */
  constructor(seedValue: number = seed) {
    this.#state = seedValue >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** A string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** `bytes` with a few random bytes replaced, inserted or removed. */
  mutate(bytes: Uint8Array): Uint8Array {
    const out = [...bytes];
    const edits = 1 + this.int(4);
    for (let e = 0; e < edits; e++) {
      const at = this.int(out.length + 1);
      const kind = this.int(3);
      if (kind === 0 && out.length > 0) out[Math.min(at, out.length - 1)] = this.int(256);
      else if (kind === 1) out.splice(at, 0, this.int(256));
      else out.splice(at, 1);
    }
    return Uint8Array.from(out);
  }
}
