/**
 * Command-line parsing: `node:util`'s `parseArgs` in strict mode (on Deno, Node
 * and Bun alike), its errors as {@link CommandLineError}s.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** How one option is written: a value (`--name V`, repeatable with `multiple`) or a flag. */
export interface CommandLineOption {
  /** `string` takes a value; `boolean` is a flag. */
  type: "string" | "boolean";
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  /** A one-letter alias, e.g. `h` for `-h`. */
  short?: string;
}

/** What was on the command line. */
export interface CommandLine {
  /** Each option given: a string, a flag's `true`, or the list of a repeatable one. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** The arguments that are not options. */
  positionals: string[];
}

/** An unknown option, a missing value or a stray argument; the message names it. */
export class CommandLineError extends Error {
  /** @param message what is wrong, naming the argument */
  constructor(message: string) {
    super(message);
    this.name = "CommandLineError";
  }
}

/**
 * Parse `argv` against `options`, strictly: anything else is a
 * {@link CommandLineError}, and so are positionals unless allowed.
 */
export function parseCommandLine(
  argv: readonly string[],
  options: Readonly<Record<string, CommandLineOption>>,
  allowPositionals: boolean,
): CommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(argv, options),
      options: options as Record<string, CommandLineOption>,
      strict: true,
      allowPositionals,
    });
    return { values: values as CommandLine["values"], positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      throw new CommandLineError((error as Error).message);
    }
    throw error;
  }
}

/**
 * `--name -5m` as `--name=-5m` for an option that takes a value: strict
 * `parseArgs` refuses a value that starts with a dash as ambiguous, and
 * negative numbers and times ago (`--from -100`, `--from -5m`) are values here.
 */
function joinNegativeValues(
  argv: readonly string[],
  options: Readonly<Record<string, CommandLineOption>>,
): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i])?.[1];
    const next = argv[i + 1];
    if (
      name !== undefined && options[name]?.type === "string" && next !== undefined &&
      /^-\d/.test(next)
    ) {
      joined.push(`--${name}=${next}`);
      i++;
    } else {
      joined.push(argv[i]);
    }
  }
  return joined;
}
