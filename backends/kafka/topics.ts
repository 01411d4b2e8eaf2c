/**
 * The Kafka topics a streamer knows: their partitions, looked up once, and
 * topics created on first use where allowed.
 *
 * @module
 */
import { StreamError } from "../../types.ts";
import { sleep } from "../../runtime/mod.ts";
import type { KafkaDriver } from "./driver.ts";

/** The topics known to a streamer. */
export class Topics {
  readonly #client: KafkaDriver;
  /** Whether missing topics are created. */
  readonly autoCreate: boolean;
  readonly #partitions: number | undefined;
  readonly #topics = new Map<string, Promise<number[]>>();

  /** Topics of `client`; missing ones are created with `partitions` if `autoCreate`. */
  constructor(client: KafkaDriver, autoCreate: boolean, partitions: number | undefined) {
    this.#client = client;
    this.autoCreate = autoCreate;
    this.#partitions = partitions;
  }

  /**
   * The partitions of each of `topics`, creating missing topics when allowed
   * (else `StreamError("StreamKeyNotFound")`). Known topics are not asked again.
   */
  async ensure(topics: readonly string[]): Promise<Map<string, number[]>> {
    const unknown = topics.filter((topic) => !this.#topics.has(topic));
    if (unknown.length > 0) {
      const lookup = this.#lookUp(unknown);
      for (const topic of unknown) {
        const partitions = lookup.then((found) => found.get(topic)!);
        partitions.catch(() => this.#topics.delete(topic));
        this.#topics.set(topic, partitions);
      }
    }
    const result = new Map<string, number[]>();
    for (const topic of topics) result.set(topic, [...await this.#topics.get(topic)!]);
    return result;
  }

  /**
   * Those of `topics` that exist (their partitions now known, as `ensure`
   * would learn them); none is created. A topic being created counts once it is.
   */
  async existing(topics: readonly string[]): Promise<string[]> {
    const unknown = topics.filter((topic) => !this.#topics.has(topic));
    if (unknown.length > 0) {
      const found = await this.#client.partitions(unknown);
      for (const [topic, partitions] of found) {
        if (!this.#topics.has(topic)) this.#topics.set(topic, Promise.resolve(partitions));
      }
    }
    const result: string[] = [];
    for (const topic of topics) {
      if (await this.#topics.get(topic)?.then(() => true, () => false)) result.push(topic);
    }
    return result;
  }

  async #lookUp(topics: string[]): Promise<Map<string, number[]>> {
    let found = await this.#client.partitions(topics);
    const missing = topics.filter((topic) => !found.has(topic));
    if (missing.length > 0) {
      if (!this.autoCreate) {
        throw new StreamError(
          "StreamKeyNotFound",
          `kafka: no topic ${missing.join(", ")} (autoCreateTopics is off)`,
        );
      }
      await this.#client.createTopics(missing, this.#partitions);
      // The broker asked may learn of the new topics a moment after the controller.
      let still = missing;
      for (let attempt = 0; still.length > 0 && attempt < 50; attempt++) {
        if (attempt > 0) await sleep(100);
        found = new Map([...found, ...await this.#client.partitions(still)]);
        still = missing.filter((topic) => !found.has(topic));
      }
      if (still.length > 0) {
        throw new StreamError(
          "StreamKeyNotFound",
          `kafka: topic ${still.join(", ")} was not created`,
        );
      }
    }
    return found;
  }
}
