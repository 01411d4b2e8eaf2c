/** Kafka URIs: seed brokers, default port, credentials, and what is refused. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StreamError } from "../../types.ts";
import { parseKafkaUri } from "./url.ts";

function refused(uri: string): StreamError {
  try {
    parseKafkaUri(uri);
  } catch (error) {
    assert.ok(error instanceof StreamError);
    assert.equal(error.code, "StreamUrl");
    return error;
  }
  assert.fail(`${uri} was accepted`);
}

describe("kafka URIs", () => {
  it("lists the seed brokers, 9092 by default", () => {
    assert.deepEqual(parseKafkaUri("kafka://a:9093,b,127.0.0.1:19092/").brokers, [
      "a:9093",
      "b:9092",
      "127.0.0.1:19092",
    ]);
    assert.deepEqual(parseKafkaUri("KAFKA://broker.example.com").brokers, [
      "broker.example.com:9092",
    ]);
  });

  it("takes credentials from the user info, percent-decoded, and hides the password", () => {
    const parsed = parseKafkaUri("kafka://al%40ice:p%3Ass@h:9092");
    assert.deepEqual(parsed.credentials, { username: "al@ice", password: "p:ss" });
    assert.equal(parsed.redacted, "kafka://al%40ice:***@h:9092");
    assert.equal(parseKafkaUri("kafka://h").credentials, undefined);
  });

  it("takes the client library from ?driver=, and refuses an unknown one or another parameter", () => {
    assert.equal(parseKafkaUri("kafka://h:9092?driver=platformatic").driver, "platformatic");
    assert.equal(parseKafkaUri("kafka://h/?driver=kafkajs").driver, "kafkajs");
    assert.equal(parseKafkaUri("kafka://h").driver, undefined);
    assert.match(refused("kafka://h?driver=librdkafka").message, /"kafkajs" or "platformatic"/);
    assert.match(refused("kafka://h?acks=1").message, /unknown parameter "acks"/);
    assert.doesNotMatch(refused("kafka://u:secret@h?driver=x").message, /secret/);
  });

  it("refuses what is not host:port", () => {
    for (
      const uri of [
        "redis://h:6379",
        "kafka://",
        "kafka://h:0",
        "kafka://h:65536",
        "kafka://h:port",
        "kafka://a b",
        "kafka://h:9092/topic",
        "kafka://a,,b",
      ]
    ) {
      refused(uri);
    }
    assert.doesNotMatch(refused("kafka://u:secret@h:x").message, /secret/);
  });
});
