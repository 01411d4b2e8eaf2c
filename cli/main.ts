/**
 * The `seastreamer` command: parses the command line, runs a command, maps
 * errors to exit codes (0 done, 1 failed, 2 bad usage).
 *
 * @module
 */
import { isStreamError } from "../types.ts";
import { printError, type Shutdown, shutdownSignal, stdout } from "../runtime/mod.ts";
import { parseArgs, type ParsedArgs, UsageError } from "./args.ts";
import { clock, produce } from "./produce.ts";
import { consume, relay } from "./consume.ts";
import { decode } from "./decode.ts";
import { bench } from "./bench.ts";
import { streams } from "./streams.ts";
import { trim } from "./trim.ts";

import { encodeUtf8 } from "../core/message.ts";

interface Command {
  summary: string;
  usage: string;
  options: string[];
  flags: string[];
  run(args: ParsedArgs, shutdown: Shutdown): Promise<number>;
}

const CONSUMER_OPTIONS = ["input", "from", "group", "mode", "count"];

const COMMANDS: Record<string, Command> = {
  clock: {
    summary: "send `tick N` to streams at a fixed interval",
    usage: `seastreamer clock --stream URL [--interval 1s] [--count N]

  --stream URL     where to send, e.g. stdio:///clock or redis://localhost:6379/clock
  --interval D     time between ticks: 1s, 250ms, 2m (default 1s)
  --count N        stop after N ticks (default: until interrupted)

Example:
  seastreamer clock --stream stdio:///clock --interval 100ms --count 10`,
    options: ["stream", "interval", "count"],
    flags: [],
    run: clock,
  },
  produce: {
    summary: "send payloads from arguments, a file's lines or stdin's lines",
    usage: `seastreamer produce --output URL [--file PATH] [PAYLOAD...]

  --output URL     the stream to send to, e.g. file://./data.ss/orders
  --file PATH      send each line of this file
  PAYLOAD...       send these payloads; with neither, send each line of stdin

Example:
  echo '{"id":1}' | seastreamer produce --output redis://localhost:6379/orders`,
    options: ["output", "file"],
    flags: [],
    run: produce,
  },
  consume: {
    summary: "print messages of streams",
    usage: `seastreamer consume --input URL [--format log|ndjson|payload] [--from POS]
                    [--group G] [--mode M] [--count N] [--no-follow]

  --input URL      the streams to read, e.g. kafka://localhost:9092/orders,refunds
  --format F       log: [timestamp | stream | seq | shard] payload (default)
                   ndjson: one JSON object per message; payload: the payload alone
  --from POS       earliest, latest (default), a sequence number or a UTC time
  --group G        consumer group; --mode real-time|resumable|load-balanced
  --count N        stop after N messages
  --no-follow      (file) stop at the end of the file instead of waiting for more

Example:
  seastreamer consume --input file://./data.ss/orders --from earliest --no-follow`,
    options: [...CONSUMER_OPTIONS, "format"],
    flags: ["no-follow"],
    run: consume,
  },
  relay: {
    summary: "copy messages from streams to other streams, on any backends",
    usage:
      `seastreamer relay --input URL --output URL [--from POS] [--group G] [--mode M] [--count N]

  --input URL      the streams to read
  --output URL     where to write; without stream keys, each message keeps its stream
  (other options as for consume)

Example:
  seastreamer relay --input stdio:///a --output redis://localhost:6379/b`,
    options: [...CONSUMER_OPTIONS, "output"],
    flags: ["no-follow"],
    run: relay,
  },
  decode: {
    summary: "print the messages of a SeaStreamer .ss file",
    usage: `seastreamer decode FILE [--format log|ndjson] [--header-only]

  FILE             a .ss file (written by seastreamer or SeaStreamer)
  --format F       log: [timestamp | stream | seq | shard] payload, with the file
                   header and the beacons as # lines (default); ndjson: one JSON
                   object per message
  --header-only    leave the payloads out

Bad bytes are reported on stderr with their byte offset and skipped; the exit
code is then 1.

Example:
  seastreamer decode ./data.ss --format ndjson`,
    options: ["format"],
    flags: ["header-only"],
    run: decode,
  },
};
COMMANDS.bench = {
  summary: "measure throughput from one URL to another (msg/s and MB/s)",
  usage: `seastreamer bench --output URL [--input URL] [--count N] [--size BYTES]

  --output URL     the stream to send to
  --input URL      the streams to receive from (default: the output stream itself)
  --count N        messages to send (default 100000)
  --size BYTES     payload size (default 256)

Prints the producing and the consuming rate; exits 1 if fewer messages arrived than were sent.

Example:
  seastreamer bench --output redis://localhost:6379/bench --count 100000 --size 256`,
  options: ["output", "input", "count", "size"],
  flags: [],
  run: bench,
};
COMMANDS.streams = {
  summary: "list the streams on a Redis or Kafka server, or in a .ss file",
  usage: `seastreamer streams --input URL

  --input URL      a server or file: redis://localhost:6379, kafka://localhost:9092, file://./data.ss

Example:
  seastreamer streams --input kafka://localhost:9092`,
  options: ["input"],
  flags: [],
  run: streams,
};
COMMANDS.trim = {
  summary: "trim streams (Redis: XTRIM) by length, entry ID or age",
  usage: `seastreamer trim --stream URL (--maxlen N | --minid ID | --max-age D) [--exact]

  --stream URL     the streams to trim, e.g. redis://localhost:6379/orders,refunds
                   (a sharded stream is trimmed on every shard)
  --maxlen N       keep the last N entries (of each shard)
  --minid ID       drop entries with an ID below ID (e.g. 1700000000000-0)
  --max-age D      drop entries older than D: 30s, 10m, 24h
  --exact          accepted for older scripts: trimming is always exact

Example:
  seastreamer trim --stream redis://localhost:6379/orders --maxlen 100000`,
  options: ["stream", "maxlen", "minid", "max-age"],
  flags: ["exact"],
  run: trim,
};
COMMANDS.tail = { ...COMMANDS.consume, summary: "same as consume" };

function overview(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((name) => name.length));
  return `seastreamer: produce, consume and relay streams on Kafka, Redis, stdio and files

Usage: seastreamer COMMAND [OPTIONS]   (seastreamer COMMAND --help for details)

Commands:
${names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`).join("\n")}

URLs: kafka://host:9092/STREAMS  redis://[user:pass@]host:6379/STREAMS  stdio:///STREAMS
      file://./data.ss/STREAMS   (STREAMS: stream keys separated by commas)`;
}

async function print(text: string): Promise<void> {
  const writer = stdout().getWriter();
  await writer.write(encodeUtf8(text + "\n"));
  writer.releaseLock();
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
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    await print(overview());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    printError(`seastreamer: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    await print(command.usage);
    return 0;
  }
  const shutdown = shutdownSignal();
  try {
    const args = parseArgs(rest, command);
    return await command.run(args, shutdown);
  } catch (error) {
    if (error instanceof UsageError || isStreamError(error, "StreamUrl")) {
      printError(`seastreamer ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    printError(`seastreamer ${name}: ${isStreamError(error) ? error.toString() : error}`);
    return 1;
  } finally {
    shutdown.dispose();
  }
}
