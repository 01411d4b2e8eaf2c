/**
 * The `seastreamer` command: parses the command line, runs a command, maps
 * errors to exit codes (0 done, 1 failed, 2 bad usage). A closed output (`| head`)
 * ends a command quietly with 0.
 *
 * @module
 */
import { isStreamError } from "../types.ts";
import { isBrokenPipe, printError, type Shutdown, shutdownSignal, stdout } from "../runtime/mod.ts";
import { type ArgsSpec, describeOptions, parseArgs, type ParsedArgs, UsageError } from "./args.ts";
import { clock, produce } from "./produce.ts";
import { consume, relay } from "./consume.ts";
import { decode } from "./decode.ts";
import { bench } from "./bench.ts";
import { groups, streams } from "./streams.ts";
import { trim } from "./trim.ts";
import { VERSION } from "./version.ts";
import { encodeUtf8 } from "../core/message.ts";

interface Command extends ArgsSpec {
  summary: string;
  usage: string;
  example: string;
  run(args: ParsedArgs, shutdown: Shutdown): Promise<number>;
}

const CONSUMER_OPTIONS = {
  from: {
    value: "POS",
    help: "where to start: earliest, latest (default), a seqNo, a Redis entry ID\n" +
      "(1767225600000-0), a UTC time (2026-01-01T00:00:00), a time ago\n" +
      "(-30s, -5m, -2h), the last N messages of each stream (-100), or\n" +
      "PARTITION:OFFSET,... (0:100,2:250; Kafka, one stream): only the partitions\n" +
      "named are read, each from its offset, as kcat -p P -o OFFSET does",
  },
  group: { value: "G", help: "the consumer group (resumable and load-balanced modes)" },
  mode: { value: "M", help: "real-time (default), resumable or load-balanced" },
  count: { value: "N", help: "stop after N messages" },
  "no-follow": { help: "stop at the end of what the streams hold now" },
};

const COMMANDS: Record<string, Command> = {
  clock: {
    summary: "send `tick N` to streams at a fixed interval",
    usage: "seastreamer clock --stream URL [--interval 1s] [--count N]",
    options: {
      stream: {
        value: "URL",
        help: "where to send, e.g. stdio:///clock or redis://localhost:6379/clock",
      },
      interval: { value: "D", help: "time between ticks: 1s, 250ms, 2m (default 1s)" },
      count: { value: "N", help: "stop after N ticks (default: until interrupted)" },
    },
    example: "seastreamer clock --stream stdio:///clock --interval 100ms --count 10",
    run: clock,
  },
  produce: {
    summary: "send payloads from arguments, a file's lines or stdin's lines",
    usage: "seastreamer produce --output URL [--file PATH] [--format raw|ndjson] [PAYLOAD...]",
    positionals: "PAYLOAD...",
    options: {
      output: { value: "URL", help: "the stream to send to, e.g. file://./data.ss/orders" },
      file: { value: "PATH", help: "send each line of this file (default: stdin's lines)" },
      format: {
        value: "F",
        help: "raw: each line is a payload (default)\n" +
          "ndjson: each line is an object as `consume --format ndjson` prints it:\n" +
          "its payload (or payloadBase64), key and headers are sent",
      },
      key: { value: "K", help: "the key of every message (Redis, Kafka)" },
      header: {
        value: "NAME=VALUE",
        multiple: true,
        help: "a header of every message (Redis, Kafka)",
      },
    },
    example:
      "echo '{\"id\":1}' | seastreamer produce --output redis://localhost:6379/orders --key k1",
    run: produce,
  },
  consume: {
    summary: "print messages of streams",
    usage: "seastreamer consume --input URL [--format log|ndjson|payload] [--from POS] [...]",
    options: {
      input: {
        value: "URL",
        help: "the streams to read, e.g. kafka://localhost:9092/orders,refunds",
      },
      format: {
        value: "F",
        help: "log: [timestamp | stream | seq | shard] payload (default)\n" +
          "ndjson: one JSON object per message (with key and headers where it has them)\n" +
          "payload: the payload alone",
      },
      ...CONSUMER_OPTIONS,
    },
    example: "seastreamer consume --input file://./data.ss/orders --from earliest --no-follow",
    run: consume,
  },
  relay: {
    summary: "copy messages from streams to other streams, on any backends",
    usage: "seastreamer relay --input URL --output URL [--from POS] [...]",
    options: {
      input: { value: "URL", help: "the streams to read" },
      output: {
        value: "URL",
        help: "where to write: a stream URL sends every message to its streams;\n" +
          "a URL without stream keys (redis://host:6379/) keeps each message's stream",
      },
      ...CONSUMER_OPTIONS,
    },
    example: "seastreamer relay --input stdio:///a --output redis://localhost:6379/b",
    run: relay,
  },
  decode: {
    summary: "print the messages of a SeaStreamer .ss file",
    usage: "seastreamer decode FILE [--format log|ndjson] [--header-only]",
    positionals: "FILE",
    options: {
      format: {
        value: "F",
        help: "log: [timestamp | stream | seq | shard] payload, with the file header\n" +
          "and the beacons as # lines (default); ndjson: one JSON object per message",
      },
      "header-only": { help: "leave the payloads out" },
    },
    example: "seastreamer decode ./data.ss --format ndjson\n\n" +
      "Bad bytes are reported on stderr with their byte offset and skipped; the exit\n" +
      "code is then 1.",
    run: decode,
  },
  bench: {
    summary: "measure throughput from one URL to another (msg/s and MB/s)",
    usage: "seastreamer bench --output URL [--input URL] [--count N] [--size BYTES]",
    options: {
      output: { value: "URL", help: "the stream to send to" },
      input: { value: "URL", help: "the streams to receive from (default: the output stream)" },
      count: { value: "N", help: "messages to send (default 100000)" },
      size: { value: "BYTES", help: "payload size (default 256)" },
    },
    example:
      "seastreamer bench --output redis://localhost:6379/bench --count 100000 --size 256\n\n" +
      "Prints the producing and the consuming rate; exits 1 if fewer messages arrived than were sent.",
    run: bench,
  },
  streams: {
    summary: "list streams with their length, seqNos, groups and lag",
    usage: "seastreamer streams --input URL [--format table|ndjson] [--names]",
    options: {
      input: {
        value: "URL",
        help: "a server or file (redis://localhost:6379, kafka://localhost:9092,\n" +
          "file://./data.ss), or some of its streams (file://./data.ss/orders)",
      },
      format: { value: "F", help: "table (default) or ndjson" },
      names: { help: "the names only, one a line (quick on a server with thousands)" },
    },
    example: "seastreamer streams --input kafka://localhost:9092",
    run: streams,
  },
  groups: {
    summary: "list the consumer groups of streams, or move a group (--reset)",
    usage: "seastreamer groups --input URL [--group G --reset POS] [--format table|ndjson]",
    options: {
      input: { value: "URL", help: "the streams, e.g. redis://localhost:6379/orders" },
      group: { value: "G", help: "the group to reset" },
      reset: {
        value: "POS",
        help: "move the group: earliest, latest, a seqNo, or a UTC time;\n" +
          "its next consumer starts there (like kafka-consumer-groups --reset-offsets)",
      },
      format: { value: "F", help: "table (default) or ndjson" },
    },
    example:
      "seastreamer groups --input kafka://localhost:9092/orders --group billing --reset earliest",
    run: groups,
  },
  trim: {
    summary: "remove the oldest messages of streams, by length, seqNo or age",
    usage: "seastreamer trim --stream URL (--maxlen N | --min-seq SEQ | --minid ID | --max-age D)",
    options: {
      stream: {
        value: "URL",
        help: "the streams to trim, e.g. redis://localhost:6379/orders,refunds\n" +
          "(every shard; Redis, Kafka and NATS: a file keeps everything)",
      },
      maxlen: { value: "N", help: "keep the last N messages (of each shard)" },
      "min-seq": { value: "SEQ", help: "remove the messages with a seqNo below SEQ" },
      minid: {
        value: "ID",
        help: "Redis: remove the entries with an ID below ID (e.g. 1700000000000-0)",
      },
      "max-age": { value: "D", help: "remove the messages older than D: 30s, 10m, 24h" },
      exact: { help: "accepted for older scripts: trimming is always exact" },
    },
    example: "seastreamer trim --stream redis://localhost:6379/orders --maxlen 100000",
    run: trim,
  },
};
COMMANDS.tail = { ...COMMANDS.consume, summary: "same as consume" };

function help(command: Command): string {
  return `${command.summary}

Usage: ${command.usage}

Options:
${describeOptions(command)}

Example:
  ${command.example.replaceAll("\n", "\n  ")}`.replaceAll("\n  \n", "\n\n");
}

function overview(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((name) => name.length));
  return `seastreamer ${VERSION}: produce, consume and relay streams on Kafka, Redis, stdio and files

Usage: seastreamer COMMAND [OPTIONS]   (seastreamer COMMAND --help for details)
       seastreamer --version

Commands:
${names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`).join("\n")}

URLs: kafka://host:9092/STREAMS  redis://[user:pass@]host:6379/STREAMS  stdio:///STREAMS
      file://./data.ss/STREAMS   (STREAMS: stream keys separated by commas)`;
}

async function print(text: string): Promise<void> {
  const writer = stdout().getWriter();
  try {
    await writer.write(encodeUtf8(text + "\n"));
  } finally {
    writer.releaseLock();
  }
}

/**
 * Run the CLI with `argv` (the arguments after the program name); the exit code.
 *
 * @example
 * ```ts
 * import { main } from "@seastreamer/seastreamer/cli";
 *
 * const code = await main(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === "--version" || name === "-V" || name === "version") {
      await print(VERSION);
      return 0;
    }
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      await print(overview());
      return name === undefined ? 2 : 0;
    }
  } catch (error) {
    if (isBrokenPipe(error)) return 0;
    throw error;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    const what = name.startsWith("-") ? "option" : "command";
    printError(`seastreamer: unknown ${what} ${JSON.stringify(name)}\n\n${overview()}`);
    return 2;
  }
  const shutdown = shutdownSignal();
  try {
    if (rest.includes("--help") || rest.includes("-h")) {
      await print(help(command));
      return 0;
    }
    const args = parseArgs(rest, command);
    return await command.run(args, shutdown);
  } catch (error) {
    // `seastreamer consume … | head -n 1`: the reader went away; that is not a failure.
    if (isBrokenPipe(error)) return 0;
    if (error instanceof UsageError || isStreamError(error, "StreamUrl")) {
      printError(`seastreamer ${name}: ${error.message}\n\n${help(command)}`);
      return 2;
    }
    printError(`seastreamer ${name}: ${isStreamError(error) ? error.toString() : error}`);
    return 1;
  } finally {
    shutdown.dispose();
  }
}
