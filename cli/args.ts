/**
 * A small command-line parser: `--name value`, `--name=value`, boolean flags
 * and positional arguments.
 *
 * @module
 */

/** A usage error: the CLI prints it with the command's help and exits with 2. */
export class UsageError extends Error {
  /** @param message what is wrong with the command line */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** `--name value` options (the last one wins). */
  options: Map<string, string>;
  /** Boolean flags given. */
  flags: Set<string>;
  /** Positional arguments. */
  positional: string[];
}

/**
 * Parse `argv` knowing which names take a value and which are flags; an unknown
 * `--name` is a {@link UsageError}.
 */
export function parseArgs(
  argv: readonly string[],
  spec: { options: readonly string[]; flags: readonly string[] },
): ParsedArgs {
  const parsed: ParsedArgs = { options: new Map(), flags: new Set(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      parsed.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (spec.flags.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      parsed.flags.add(name);
    } else if (spec.options.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      parsed.options.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return parsed;
}

/** The value of `--name`, or a {@link UsageError} if it is missing. */
export function required(args: ParsedArgs, name: string): string {
  const value = args.options.get(name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * A duration such as `1s`, `250ms`, `2m` or a bare number of milliseconds, in ms.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./args.ts";
 *
 * console.log(parseDuration("1.5s")); // 1500
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${JSON.stringify(text)} is not a duration (e.g. 1s, 250ms)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "ms"]!;
  return Number(match[1]) * unit;
}

/** A non-negative integer option, or `fallback`. */
export function integerOption(args: ParsedArgs, name: string, fallback: number): number {
  const text = args.options.get(name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, not ${text}`);
  return Number(text);
}
