/**
 * The NATS streamer: one connection shared by its producers (one publisher)
 * and consumers (a subscription per stream read), and the admin operations.
 *
 * @module
 */
import type {
  BackendCapabilities,
  ConnectOptions,
  ConsumerOptions,
  Logger,
  ProducerOptions,
  SeqPos,
  Streamer,
  StreamInfo,
  StreamKey,
  TrimOptions,
} from "../../types.ts";
import type {
  ConsumerDriver,
  ConsumerHost,
  ProducerDriver,
  StreamerDriver,
} from "../../core/driver.ts";
import { CoreStreamer } from "../../core/streamer.ts";
import { positiveInteger } from "../../core/options.ts";
import { capabilities } from "./capabilities.ts";
import { type NatsClient, openClient } from "./client.ts";
import { NatsConsumer } from "./consumer.ts";
import { NatsProducer } from "./producer.ts";
import { resetGroup } from "./groups.ts";
import { Link } from "./link.ts";
import { Publisher } from "./publisher.ts";
import { Streams } from "./streams.ts";
import { parseNatsUri } from "./url.ts";
import { checkSubjectKey } from "./mapping.ts";

/**
 * Connect to the NATS server (with JetStream) that `uri` names:
 * `nats://[user:password@|token@]host[:port][,host[:port]...]`, or `tls://…`
 * (also `nats+tls://…`) for TLS; a credentials file and TLS settings come from
 * `options.nats`. Resolves once connected within `options.timeoutMs` (default
 * 10,000 ms), else `StreamError("Connect")`.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@seastreamer/seastreamer/nats";
 *
 * const streamer = await connect("nats://127.0.0.1:4222");
 * const producer = await streamer.createProducer("orders");
 * const receipt = await producer.send('{"id":1}');
 * console.log(receipt.seqNo); // the JetStream stream sequence
 * await streamer.disconnect();
 * ```
 */
export async function connect(uri: string, options: ConnectOptions = {}): Promise<Streamer> {
  const parsed = parseNatsUri(uri);
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs, 10_000);
  const nats = options.nats ?? {};
  const client = await openClient(parsed, nats, timeoutMs);
  return new CoreStreamer(
    new NatsDriver(client, parsed.redacted, new Streams(client, nats), timeoutMs, options.logger),
  );
}

/** A NATS server as a backend. */
class NatsDriver implements StreamerDriver {
  readonly backend = "nats" as const;
  readonly capabilities: BackendCapabilities = capabilities;
  readonly uri: string;
  readonly #client: NatsClient;
  readonly #streams: Streams;
  readonly #publisher: Publisher;
  readonly #link = new Link();
  readonly #watching: Promise<void>;
  readonly #logger: Logger | undefined;

  constructor(
    client: NatsClient,
    uri: string,
    streams: Streams,
    timeoutMs: number,
    logger: Logger | undefined,
  ) {
    this.#client = client;
    this.#logger = logger;
    this.uri = uri;
    this.#streams = streams;
    this.#publisher = new Publisher(client.lib, client.nc, timeoutMs);
    this.#watching = this.#watch();
  }

  /**
   * Follow the connection. What was published before a drop, or while the
   * connection was down (the client does not send that on), gets no
   * acknowledgement: it is published again once the connection is back.
   * Readers and commits follow the {@link Link}.
   */
  async #watch(): Promise<void> {
    for await (const status of this.#client.nc.status()) {
      if (status.type === "disconnect") {
        this.#logger?.warn(`nats: connection to ${this.uri} lost; reconnecting`);
        this.#link.down();
      } else if (status.type === "reconnect") {
        this.#logger?.info(`nats: connected again to ${this.uri}`);
        this.#publisher.resend();
        this.#link.restored();
      }
    }
  }

  openProducer(_stream: StreamKey | undefined, _options: ProducerOptions): Promise<ProducerDriver> {
    if (_stream !== undefined) checkSubjectKey(_stream);
    return Promise.resolve(new NatsProducer(this.#publisher, this.#streams));
  }

  async openConsumer(host: ConsumerHost, options: ConsumerOptions): Promise<ConsumerDriver> {
    for (const key of host.settings.streams) checkSubjectKey(key);
    return await NatsConsumer.open(this.#client, this.#link, this.#streams, host.settings, options);
  }

  listStreams(): Promise<StreamKey[]> {
    return this.#streams.list();
  }

  describeStream(stream: StreamKey): Promise<StreamInfo> {
    return this.#streams.describe(stream);
  }

  trimStream(stream: StreamKey, options: TrimOptions): Promise<number> {
    return this.#streams.trim(stream, options);
  }

  resetGroup(stream: StreamKey, group: string, position: SeqPos | Date): Promise<void> {
    return resetGroup(this.#client, stream, group, position);
  }

  async close(): Promise<void> {
    this.#publisher.close();
    await this.#client.nc.close().catch(() => {});
    await this.#watching.catch(() => {});
  }
}
