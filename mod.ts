/**
 * seastreamer: one stream-processing API (producers, consumers, consumer
 * groups, seek, rewind, commit) over Kafka/Redpanda, Redis Streams, stdio and
 * SeaStreamer's file format, on Deno, Node and Bun. The backend is chosen by
 * URL at run time.
 *
 * @example A producer and a consumer, on whichever backend the URL names
 * ```ts
 * import { SeaStreamer } from "@seastreamer/seastreamer";
 *
 * const streamer = await SeaStreamer.connect("stdio://", {
 *   stdio: { loopback: true, output: new WritableStream() },
 * });
 * const consumer = await streamer.createConsumer(["orders"]);
 * const producer = await streamer.createProducer("orders");
 * const receipt = await producer.send(JSON.stringify({ id: 1 }));
 * const message = await consumer.next();
 * console.log(receipt.seqNo, message.payload.json()); // 0n { id: 1 }
 * await streamer.disconnect();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./socket.ts";
export { LazyHeader } from "./core/header.ts";
