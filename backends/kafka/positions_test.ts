import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startOffsets } from "./positions.ts";
import { tpKey } from "./assignment.ts";
import type { KafkaDriver, OffsetSpec } from "./driver.ts";

/** A driver answering offset lookups only when told to, recording each ask. */
function lookups() {
  const asked: string[] = [];
  const answers: (() => void)[] = [];
  const answer = <T>(what: string, value: T) =>
    new Promise<T>((resolve) => {
      asked.push(what);
      answers.push(() => resolve(value));
    });
  const driver = {
    committed: (group: string, topic: string) =>
      answer(`committed ${group} ${topic}`, new Map(topic === "a" ? [[0, 5n]] : [])),
    offsets: (topic: string, spec: OffsetSpec) =>
      answer(`offsets ${topic} ${spec}`, new Map([[0, 1n], [1, 2n]])),
  } as unknown as KafkaDriver;
  return { driver, asked, answerAll: () => answers.splice(0).forEach((answer) => answer()) };
}

describe("startOffsets", () => {
  it("asks for every topic at once (one round trip), then takes the committed offset, else the reset's", async () => {
    const { driver, asked, answerAll } = lookups();
    const byTopic = new Map([["a", [0]], ["b", [0, 1]], ["c", [1]]]);
    const found = startOffsets(driver, byTopic, {
      group: "g",
      reset: "earliest",
      known: undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual([...asked].sort(), [
      "committed g a",
      "committed g b",
      "committed g c",
      "offsets a earliest",
      "offsets b earliest",
      "offsets c earliest",
    ]);
    answerAll();
    assert.deepEqual(
      await found,
      new Map([[tpKey("a", 0), 5n], [tpKey("b", 0), 1n], [tpKey("b", 1), 2n], [tpKey("c", 1), 2n]]),
    );
  });
});
