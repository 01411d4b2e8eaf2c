/**
 * Progress on stderr (count and rate, once a second) for long runs, shown only
 * when stderr is a terminal: piped output stays clean.
 *
 * @module
 */
import { isTerminal, printError } from "../runtime/mod.ts";

/** Counts messages and bytes; prints a line now and then when stderr is a terminal. */
export class Progress {
  readonly #label: string;
  readonly #enabled: boolean;
  readonly #started = performance.now();
  #count = 0;
  #bytes = 0;
  #lastPrint = performance.now();

  /** Progress of `label` (e.g. "consumed"); `enabled` defaults to stderr being a terminal. */
  constructor(label: string, enabled: boolean = isTerminal("stderr")) {
    this.#label = label;
    this.#enabled = enabled;
  }

  /** Messages counted so far. */
  get count(): number {
    return this.#count;
  }

  /** Bytes counted so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Seconds since the start. */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Count one message of `bytes`. */
  add(bytes: number): void {
    this.#count++;
    this.#bytes += bytes;
    if (this.#enabled && (this.#count & 1023) === 0) {
      const now = performance.now();
      if (now - this.#lastPrint >= 1000) {
        this.#lastPrint = now;
        printError(`\r${this.line()}\u001b[K`.replace(/\n$/, ""));
      }
    }
  }

  /** `label N msgs in T s: R msg/s, M MB/s`. */
  line(): string {
    const seconds = Math.max(this.seconds, 1e-9);
    return `${this.#label} ${this.#count} msgs in ${seconds.toFixed(2)} s: ` +
      `${Math.round(this.#count / seconds)} msg/s, ${
        (this.#bytes / seconds / 1e6).toFixed(2)
      } MB/s`;
  }

  /** Print the final line (when enabled). */
  done(): void {
    if (this.#enabled) printError(`\r${this.line()}\u001b[K`);
  }
}
