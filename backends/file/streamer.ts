/**
 * The file streamer: a `.ss` file as a set of streams, with producers that
 * append to it and consumers that read, replay, follow and seek it.
 *
 * @module
 */
import {
  type BackendCapabilities,
  type ConnectOptions,
  type Consumer,
  type ConsumerOptions,
  type FileConnectOptions,
  type Producer,
  type ProducerOptions,
  type Streamer,
  StreamError,
  type StreamInfo,
  type StreamKey,
  type TrimOptions,
} from "../../types.ts";
import { BatchProducer, type PendingSend, type SendResult } from "../../core/batch_producer.ts";
import type { QueueConsumer } from "../../core/queue_consumer.ts";
import { consumerSettings, positiveInteger } from "../../core/options.ts";
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
import { FileConsumer } from "./consumer.ts";
import { joinGroup } from "./balancer.ts";
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
  return new FileStreamer(uri, path, settings);
}

/** A streamer over one `.ss` file. */
class FileStreamer implements Streamer {
  readonly backend = "file" as const;
  /** What this backend can do. */
  readonly capabilities: BackendCapabilities = capabilities;
  readonly uri: string;
  readonly path: string;
  readonly #settings: Settings;
  #writer: Promise<SharedWriter> | undefined;
  readonly #producers = new Set<FileProducer>();
  readonly #consumers = new Set<QueueConsumer>();
  #disconnected = false;

  constructor(uri: string, path: string, settings: Settings) {
    this.uri = uri;
    this.path = path;
    this.#settings = settings;
  }

  async createProducer(stream?: StreamKey, options?: ProducerOptions): Promise<Producer> {
    this.#checkOpen();
    const producer = new FileProducer(this, stream, options);
    await this.writer();
    this.#checkOpen();
    this.#producers.add(producer);
    return producer;
  }

  /**
   * A consumer of `streams` (`SEA_STREAMER_WILDCARD` for every stream).
   * Real-time consumers take no group; resumable ones keep their group's
   * position in a file beside the stream file; load-balanced members share
   * messages within this process. `file: { live: false }` replays the file and ends.
   */
  async createConsumer(
    streams: readonly StreamKey[],
    options: ConsumerOptions = {},
  ): Promise<Consumer> {
    this.#checkOpen();
    const settings = consumerSettings(streams, options, this);
    const live = options.file?.live ?? true;
    const consumer = settings.mode === "load-balanced"
      ? await joinGroup(this, settings, live)
      : await FileConsumer.create(this, settings, live);
    if (this.#disconnected) {
      await consumer.end();
      this.#checkOpen();
    }
    this.#consumers.add(consumer);
    return consumer;
  }

  /** The streams in the file (one scan of it), but SeaStreamer's internal one. */
  async listStreams(): Promise<StreamKey[]> {
    this.#checkOpen();
    const size = (await stat(this.path))?.size ?? 0;
    if (size === 0) return [];
    const recovery = new Recovery(this.path, size);
    try {
      return (await recovery.streams()).filter((key) => key !== SEA_STREAMER_INTERNAL).sort();
    } finally {
      await recovery.close();
    }
  }

  async disconnect(): Promise<void> {
    if (this.#disconnected) return;
    this.#disconnected = true;
    const errors: unknown[] = [];
    for (const producer of [...this.#producers]) {
      await producer.end().catch((error) => errors.push(error));
    }
    if (this.#writer) {
      const writer = await this.#writer.catch(() => undefined);
      this.#writer = undefined;
      await writer?.release(this.#settings.endWithEos).catch((error) => errors.push(error));
    }
    for (const consumer of [...this.#consumers]) {
      await consumer.end().catch((error) => errors.push(error));
    }
    if (errors.length > 0) throw errors[0];
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  describeStream(_stream: StreamKey): Promise<StreamInfo> {
    return Promise.reject(new StreamError("Unsupported", "describeStream: not yet"));
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  trimStream(_stream: StreamKey, _options: TrimOptions): Promise<number> {
    return Promise.reject(new StreamError("Unsupported", "trimStream: not yet"));
  }

  /** Transitional (until this backend moves to core/streamer.ts). */
  resetGroup(_stream: StreamKey, _group: string, _position: unknown): Promise<void> {
    return Promise.reject(new StreamError("Unsupported", "resetGroup: not yet"));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** The file's writer, opened on first use. @internal */
  writer(): Promise<SharedWriter> {
    if (this.#writer === undefined) {
      const opening = acquireWriter(this.path, this.#settings);
      this.#writer = opening;
      opening.catch(() => {
        if (this.#writer === opening) this.#writer = undefined;
      });
    }
    return this.#writer;
  }

  /** Forget an ended producer. @internal */
  dropProducer(producer: FileProducer): void {
    this.#producers.delete(producer);
  }

  /** Forget an ended consumer. @internal */
  dropConsumer(consumer: QueueConsumer): void {
    this.#consumers.delete(consumer);
  }

  #checkOpen(): void {
    if (this.#disconnected) {
      throw new StreamError("Closed", `file streamer ${this.path} is disconnected`);
    }
  }
}

/** Appends to the file through the file's shared writer. */
class FileProducer extends BatchProducer {
  protected readonly backendName = "file";
  readonly #streamer: FileStreamer;

  constructor(streamer: FileStreamer, stream: StreamKey | undefined, options?: ProducerOptions) {
    super(stream, options);
    this.#streamer = streamer;
  }

  protected override validate(item: PendingSend): void {
    if (item.bytes.length > 0xffffffff) {
      throw new StreamError("Unsupported", "a .ss message payload is at most 4 GiB");
    }
  }

  protected async writeBatch(batch: readonly PendingSend[]): Promise<SendResult[]> {
    const writer = await this.#streamer.writer();
    return await writer.write(batch);
  }

  protected close(): Promise<void> {
    this.#streamer.dropProducer(this);
    return Promise.resolve();
  }
}
