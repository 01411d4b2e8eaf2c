/**
 * A whole Kafka program in a fresh process, for the runtime tests: connect,
 * produce (gzip) and consume one message. Arguments: URL TOPIC. Prints
 * `ok PAYLOAD`; on failure prints the error and exits 1.
 *
 * @module
 */
import { SeaStreamer } from "../../mod.ts";
import { args, exit, printError, stdout } from "../../runtime/mod.ts";

const [url, topic] = args();
try {
  const streamer = await SeaStreamer.connect(url);
  const consumer = await streamer.createConsumer([topic]);
  const producer = await streamer.createProducer(topic, { kafka: { compression: "gzip" } });
  await producer.send("hello from a child process");
  const message = await consumer.next();
  await streamer.disconnect();
  const writer = stdout().getWriter();
  await writer.write(new TextEncoder().encode(`ok ${message.payload.text()}\n`));
  writer.releaseLock();
} catch (error) {
  printError(String(error));
  exit(1);
}
