/**
 * A consumer's reading connection: its blocking XREAD/XREADGROUP never holds
 * up other commands, a blocked read can be interrupted (CLIENT UNBLOCK), and a
 * read in flight when the connection drops fails instead of hanging.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { StreamError } from "../../types.ts";
import type { RedisClient } from "./client.ts";

/** A stream entry as read: its ID and fields (`null`: a pending entry since deleted). */
export type Entry = [Buffer, Buffer[] | null];
/** An XREAD/XREADGROUP reply: per key, its entries; `null` when the block timed out. */
export type StreamReply = [Buffer, Entry[]][] | null;

/** A connection that reads streams for one consumer. */
export class StreamReader {
  readonly #reader: RedisClient;
  /** Where CLIENT UNBLOCK is sent from (the shared command connection). */
  readonly #client: RedisClient;
  readonly #cluster: boolean;
  /** The reading connection's id on the server (one server only). */
  #id: number | undefined;
  #blocked = 0;

  /**
   * A reader over `reader` (a connection of its own whose commands are not
   * resent after a reconnect); `onReconnect` is told when it reconnected.
   */
  constructor(
    reader: RedisClient,
    client: RedisClient,
    cluster: boolean,
    onReconnect: () => void,
  ) {
    this.#reader = reader;
    this.#client = client;
    this.#cluster = cluster;
    reader.on("ready", () => {
      onReconnect();
      this.#learnId();
    });
  }

  /** Learn the connection's id, so that a blocked read can be interrupted. */
  async start(): Promise<void> {
    if (!this.#cluster) this.#id = await this.#reader.call("CLIENT", "ID") as number;
  }

  #learnId(): void {
    if (this.#cluster) return;
    this.#reader.call("CLIENT", "ID").then((id) => this.#id = id as number, () => {});
  }

  /** Run XREAD or XREADGROUP with `args`; `blocking` if they include BLOCK. */
  async read(
    command: "XREAD" | "XREADGROUP",
    args: (string | number | Buffer)[],
    blocking: boolean,
  ): Promise<StreamReply> {
    const reader = this.#reader;
    if (blocking) this.#blocked++;
    const reading = reader.callBuffer(command, args) as Promise<StreamReply>;
    if (this.#cluster) {
      try {
        return await reading;
      } finally {
        if (blocking) this.#blocked--;
      }
    }
    // The reader's commands are not resent after a reconnect, and ioredis never settles
    // them: a read in flight when the connection closes fails here instead.
    let onClose!: () => void;
    const lost = new Promise<never>((_, reject) => {
      onClose = () =>
        reject(new StreamError("Backend", "redis: the connection closed during a read"));
      reader.once("close", onClose);
    });
    try {
      return await Promise.race([reading, lost]);
    } finally {
      reader.off("close", onClose);
      reading.catch(() => {});
      if (blocking) this.#blocked--;
    }
  }

  /**
   * End a blocking read in flight now (it returns nothing, as if it timed out).
   * On a cluster a blocked read ends with its block time.
   */
  interrupt(): void {
    if (this.#blocked > 0 && this.#id !== undefined) {
      this.#client.call("CLIENT", "UNBLOCK", this.#id).catch(() => {});
    }
  }

  /** Close the connection: a read in flight fails at once. */
  close(): void {
    this.#reader.disconnect();
  }
}
