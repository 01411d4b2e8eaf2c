/**
 * Kafka streamer URIs: `kafka://host:port,host:port`, optionally with SASL
 * credentials `kafka://user:password@host:port` and the client library
 * `?driver=kafkajs|platformatic`.
 *
 * @module
 */
import { redactUri, StreamError } from "../../types.ts";
import type { KafkaDriverName } from "./options.ts";
import { decodeUserInfo } from "../../core/url.ts";

/**
 * The default Kafka port.
 *
 * @example
 * ```ts
 * import { DEFAULT_KAFKA_PORT, parseKafkaUri } from "@seastreamer/seastreamer/kafka";
 *
 * console.log(parseKafkaUri("kafka://broker").brokers[0] === `broker:${DEFAULT_KAFKA_PORT}`); // true
 * ```
 */
export const DEFAULT_KAFKA_PORT = 9092;

/**
 * A parsed Kafka URI.
 *
 * @example
 * ```ts
 * import { type KafkaUri, parseKafkaUri } from "@seastreamer/seastreamer/kafka";
 *
 * const uri: KafkaUri = parseKafkaUri("kafka://app:secret@a:9093,b");
 * console.log(uri.brokers, uri.credentials?.username, uri.redacted); // [ "a:9093", "b:9092" ] app kafka://app:***@a:9093,b
 * ```
 */
export interface KafkaUri {
  /** `host:port` of each seed broker. */
  brokers: string[];
  /** Credentials from the URI's user info, if any (percent-decoded). */
  credentials?: { username: string; password: string };
  /** The URI with the password replaced by `***`. */
  redacted: string;
  /** The client library the URI's `?driver=` names, if any. */
  driver?: KafkaDriverName;
}

/** The client libraries a `driver` may name. */
const KAFKA_DRIVERS: readonly KafkaDriverName[] = ["kafkajs", "platformatic"];

/**
 * `name` as a driver name, else `StreamError(code)` listing the known ones.
 *
 * @example
 * ```ts
 * import { kafkaDriverName } from "@seastreamer/seastreamer/kafka";
 *
 * console.log(kafkaDriverName("platformatic", "kafka.driver")); // platformatic
 * ```
 */
export function kafkaDriverName(
  name: unknown,
  where: string,
  code: "StreamUrl" | "Backend" = "Backend",
): KafkaDriverName {
  if (KAFKA_DRIVERS.includes(name as KafkaDriverName)) return name as KafkaDriverName;
  throw new StreamError(
    code,
    `${where}: the Kafka driver is "kafkajs" or "platformatic", not ${JSON.stringify(name)}`,
  );
}

/**
 * Parse `kafka://host:port,host:port` (a missing port is 9092; a trailing `/` is
 * allowed; `?driver=platformatic` chooses the client library). Anything else is
 * `StreamError("StreamUrl")`.
 *
 * @example
 * ```ts
 * import { parseKafkaUri } from "@seastreamer/seastreamer/kafka";
 *
 * console.log(parseKafkaUri("kafka://a:9092,b").brokers); // [ "a:9092", "b:9092" ]
 * ```
 */
export function parseKafkaUri(uri: string): KafkaUri {
  const match = /^kafka:\/\/(?:([^@/?]*)@)?([^/?]*)\/?(?:\?(.*))?$/i.exec(uri);
  if (!match) {
    throw new StreamError(
      "StreamUrl",
      `a Kafka URI is kafka://host:port[,host:port...][?driver=name], not ${redactUri(uri)}`,
    );
  }
  const [, userInfo, hosts, query] = match;
  let driver: KafkaDriverName | undefined;
  for (const [name, value] of new URLSearchParams(query ?? "")) {
    if (name !== "driver") {
      throw new StreamError(
        "StreamUrl",
        `${redactUri(uri)}: unknown parameter ${JSON.stringify(name)} (a Kafka URI knows driver)`,
      );
    }
    driver = kafkaDriverName(value, redactUri(uri), "StreamUrl");
  }
  const brokers = hosts.split(",").map((entry) => {
    const host = entry.trim();
    // host, host:port, [v6], [v6]:port
    const parsed = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9._-]+)(?::(\d{1,5}))?$/.exec(host);
    if (!parsed) {
      throw new StreamError(
        "StreamUrl",
        `${JSON.stringify(host)} in ${redactUri(uri)} is not host or host:port`,
      );
    }
    const port = parsed[2] === undefined ? DEFAULT_KAFKA_PORT : Number(parsed[2]);
    if (port < 1 || port > 65535) {
      throw new StreamError("StreamUrl", `port ${port} in ${redactUri(uri)} is out of range`);
    }
    return `${parsed[1]}:${port}`;
  });
  let credentials: KafkaUri["credentials"];
  if (userInfo !== undefined && userInfo !== "") {
    const colon = userInfo.indexOf(":");
    credentials = {
      username: decodeUserInfo(colon < 0 ? userInfo : userInfo.slice(0, colon), uri),
      password: colon < 0 ? "" : decodeUserInfo(userInfo.slice(colon + 1), uri),
    };
  }
  return { brokers, credentials, redacted: redactUri(uri), driver };
}
