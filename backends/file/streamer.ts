/**
 * The file streamer: a `.ss` file as a set of streams, with producers that
 * append to it and consumers that read, replay, follow and seek it.
 *
 * @module
 */
import {
  type BackendCapabilities,
  type ConnectOptions,
  type ConsumerOptions,
  type FileConnectOptions,
  type ProducerOptions,
  type SeqPos,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
} from "../../types.ts";
import type { ConsumerDriver, ConsumerHost, StreamerDriver } from "../../core/driver.ts";
import { CoreStreamer } from "../../core/streamer.ts";
import { positiveInteger } from "../../core/options.ts";
import { baseName, openFile, stat } from "../../runtime/mod.ts";
import {
  DEFAULT_BEACON_INTERVAL,
  DEFAULT_FILE_SIZE_LIMIT,
  isValidBeaconInterval,
  SEA_STREAMER_INTERNAL,
} from "./format.ts";
import { Recovery } from "./recovery.ts";
import { MessageEncoder } from "./encoder.ts";
import { acquireWriter, type SharedWriter } from "./writer.ts";
import { FileConsumerDriver } from "./consumer.ts";
import { joinGroup } from "./balancer.ts";
import { FileProducer } from "./producer.ts";
import { describeStream, resetGroup } from "./admin.ts";
import { capabilities } from "./capabilities.ts";

/**
 * The file path a `file://` URI names: `file:///abs/path/data.ss` is
 * `/abs/path/data.ss`, `file://./rel/data.ss` is `./rel/data.ss` (relative to
 * the working directory). The path is used as given: nothing is decoded or
 * interpreted. A trailing `/` is dropped.
 *
 * @example
 * ```ts
 * import { filePath } from "@seastreamer/seastreamer/file";
 *
 * console.log(filePath("file:///tmp/data.ss"), filePath("file://./data.ss")); // /tmp/data.ss ./data.ss
 * ```
 */
export function filePath(uri: string): string {
  if (typeof uri !== "string" || !/^file:\/\//i.test(uri)) {
    throw new StreamError("StreamUrl", `a file URI starts with file://, not ${String(uri)}`);
  }
  let path = uri.slice("file://".length);
  while (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  if (path === "" || path === "/") {
    throw new StreamError(
      "StreamUrl",
      `${uri} names no file (e.g. file:///tmp/data.ss or file://./data.ss)`,
    );
  }
  return path;
}

interface Settings {
  createIfNotExists: boolean;
  createOnly: boolean;
  endWithEos: boolean;
  beaconInterval: number;
  fileSizeLimit: number;
}

function fileSettings(options: FileConnectOptions = {}): Settings {
  const beaconInterval = options.beaconInterval ?? DEFAULT_BEACON_INTERVAL;
  if (!isValidBeaconInterval(beaconInterval)) {
    throw new StreamError(
      "Unsupported",
      `file.beaconInterval must be a positive multiple of 1024, not ${beaconInterval}`,
    );
  }
  return {
    createIfNotExists: options.createIfNotExists ?? false,
    createOnly: options.createOnly ?? false,
    endWithEos: options.endWithEos ?? false,
    beaconInterval,
    fileSizeLimit: positiveInteger(
      "file.fileSizeLimit",
      options.fileSizeLimit,
      DEFAULT_FILE_SIZE_LIMIT,
    ),
  };
}

/** Create `path` with a header (no messages); false if it already exists. */
async function createFile(path: string, settings: Settings): Promise<boolean> {
  let file;
  try {
    file = await openFile(path, { createNew: true });
  } catch (error) {
    if ((await stat(path)) !== undefined) return false;
    throw new StreamError("Connect", `cannot create ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const encoder = MessageEncoder.forNewFile({
      fileName: baseName(path),
      createdAt: Date.now(),
      beaconInterval: settings.beaconInterval,
    });
    await file.append(encoder.take());
  } finally {
    await file.close();
  }
  return true;
}

/**
 * Connect to the `.ss` file `uri` names (see {@link filePath}). Options come
 * from `options.file`: a missing file is `StreamError("StreamKeyNotFound")`
 * unless `createIfNotExists` (or `createOnly`, which also fails if the file
 * exists); a new file gets `beaconInterval` (default 1 MiB; an existing file
 * keeps its own); `endWithEos` writes SeaStreamer's end-of-stream message when
 * the last streamer writing the file disconnects; `fileSizeLimit` (default
 * 16 GiB) fails sends that would grow the file beyond it.
 *
 * @example
 * ```ts
 * import { connect } from "@seastreamer/seastreamer/file";
 * import { makeTempDir, remove } from "@seastreamer/seastreamer/runtime";
 *
 * const dir = await makeTempDir();
 * const streamer = await connect(`file://${dir}/data.ss`, { file: { createIfNotExists: true } });
 * const producer = await streamer.createProducer("hello");
 * await producer.send("world");
 * const consumer = await streamer.createConsumer(["hello"], { autoStreamReset: "earliest" });
 * console.log((await consumer.next()).payload.text()); // world
 * await streamer.disconnect();
 * await remove(dir);
 * ```
 */
export async function connect(uri: string, options: ConnectOptions = {}): Promise<Streamer> {
  const path = filePath(uri);
  const settings = fileSettings(options.file);
  const info = await stat(path);
  if (info === undefined) {
    if (!settings.createIfNotExists && !settings.createOnly) {
      throw new StreamError(
        "StreamKeyNotFound",
        `${path} does not exist (connect with file: { createIfNotExists: true } to create it)`,
      );
    }
    const created = await createFile(path, settings);
    if (!created && settings.createOnly) {
      throw new StreamError("Connect", `${path} already exists (createOnly)`);
    }
  } else if (settings.createOnly) {
    throw new StreamError("Connect", `${path} already exists (createOnly)`);
  } else if (!info.isFile) {
    throw new StreamError("Connect", `${path} is not a regular file`);
  }
  return new CoreStreamer(new FileDriver(uri, path, settings));
}

/** One `.ss` file as a backend. */
class FileDriver implements StreamerDriver {
  readonly backend = "file" as const;
  readonly capabilities: BackendCapabilities = capabilities;
  readonly uri: string;
  /** The file's path. */
  readonly path: string;
  readonly #settings: Settings;
  #writer: Promise<SharedWriter> | undefined;

  constructor(uri: string, path: string, settings: Settings) {
    this.uri = uri;
    this.path = path;
    this.#settings = settings;
  }

  /** A producer appending through the file's writer (opened now, so a bad file fails here). */
  async openProducer(_stream: StreamKey | undefined, _options: ProducerOptions) {
    await this.#openWriter();
    return new FileProducer(() => this.#openWriter());
  }

  /**
   * Real-time consumers take no group; resumable ones keep their group's
   * position in a file beside the stream file; load-balanced members, in this
   * process or others, share messages through that file. `live: false` replays what the file holds and ends.
   */
  openConsumer(host: ConsumerHost, _options: ConsumerOptions): Promise<ConsumerDriver> {
    const settings = host.settings;
    return settings.mode === "load-balanced"
      ? joinGroup(this.path, settings)
      : FileConsumerDriver.open(this.path, settings);
  }

  /** The streams in the file (one scan of it), but SeaStreamer's internal one. */
  async listStreams(): Promise<StreamKey[]> {
    const size = (await stat(this.path))?.size ?? 0;
    if (size === 0) return [];
    const recovery = new Recovery(this.path, size);
    try {
      return (await recovery.streams()).filter((key) => key !== SEA_STREAMER_INTERNAL).sort();
    } finally {
      await recovery.close();
    }
  }

  /** What `stream` holds (one scan of the file) and its resumable groups. */
  describeStream(stream: StreamKey): Promise<StreamInfo> {
    return describeStream(this.path, stream);
  }

  /** Move resumable group `group` of `stream` to `position` (its group file). */
  resetGroup(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void> {
    return resetGroup(this.path, stream, group, position);
  }

  /** Give the writer back (the last streamer of the file in this process closes it). */
  async close(): Promise<void> {
    const opening = this.#writer;
    this.#writer = undefined;
    const writer = await opening?.catch(() => undefined);
    await writer?.release(this.#settings.endWithEos);
  }

  #openWriter(): Promise<SharedWriter> {
    if (this.#writer === undefined) {
      const opening = acquireWriter(this.path, this.#settings);
      this.#writer = opening;
      opening.catch(() => {
        if (this.#writer === opening) this.#writer = undefined;
      });
    }
    return this.#writer;
  }
}
