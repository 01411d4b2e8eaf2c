/**
 * The CLI's arguments: each command declares its options once; parsing is
 * `node:util` parseArgs in strict mode (through runtime/), and `--help` is made
 * from the same declarations, so it lists every option.
 *
 * @module
 */
import { CommandLineError, type CommandLineOption, parseCommandLine } from "../runtime/args.ts";

/** A usage error: the CLI prints it with the command's help and exits with 2. */
export class UsageError extends Error {
  /** @param message what is wrong with the command line */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One option of a command: how it is written and what it does (for `--help`). */
export interface OptionSpec {
  /** A value's placeholder (`URL`, `N`); absent for a flag. */
  value?: string;
  /** May be given several times. */
  multiple?: boolean;
  /** What it does, one or more lines. */
  help: string;
}

/** A command's arguments: its options, and what its positionals are (absent: none). */
export interface ArgsSpec {
  /** The options, by long name. */
  options: Readonly<Record<string, OptionSpec>>;
  /** The positionals' placeholder (`PAYLOAD...`, `FILE`), if it takes any. */
  positionals?: string;
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** `--name value` options (the last one wins). */
  options: Map<string, string>;
  /** Repeatable options' values, in order. */
  lists: Map<string, string[]>;
  /** Boolean flags given. */
  flags: Set<string>;
  /** Positional arguments. */
  positional: string[];
}

/**
 * Parse `argv` for a command, strictly (`node:util` parseArgs): an unknown
 * option, a missing value or a stray positional is a {@link UsageError} naming it.
 */
export function parseArgs(argv: readonly string[], spec: ArgsSpec): ParsedArgs {
  const options: Record<string, CommandLineOption> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] = option.multiple
      ? { type: "string", multiple: true }
      : { type: option.value ? "string" : "boolean" };
  }
  let line;
  try {
    line = parseCommandLine(argv, options, spec.positionals !== undefined);
  } catch (error) {
    if (error instanceof CommandLineError) throw new UsageError(error.message);
    throw error;
  }
  const parsed: ParsedArgs = {
    options: new Map(),
    lists: new Map(),
    flags: new Set(),
    positional: line.positionals,
  };
  for (const [name, value] of Object.entries(line.values)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      parsed.lists.set(name, value.map(String));
      parsed.options.set(name, String(value[value.length - 1]));
    } else if (value === true) {
      parsed.flags.add(name);
    } else if (typeof value === "string") {
      parsed.options.set(name, value);
    }
  }
  return parsed;
}

/** The option lines of a command's help: every option, with what it does. */
export function describeOptions(spec: ArgsSpec): string {
  const rows = Object.entries(spec.options).map(([name, option]) => [
    `--${name}${option.value ? ` ${option.value}` : ""}`,
    option.help + (option.multiple ? " (repeatable)" : ""),
  ]);
  rows.push(["--help, -h", "print this help"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) =>
    help.split("\n").map((line, i) => `  ${(i === 0 ? left : "").padEnd(width)}  ${line}`)
      .join("\n")
  ).join("\n");
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
