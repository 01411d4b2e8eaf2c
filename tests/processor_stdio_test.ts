/** The processor suite on stdio: input lines in, printed lines out. */
import { parseLine } from "../backends/stdio/mod.ts";
import { sleep } from "../runtime/mod.ts";
import { processorSuite } from "./support/processor_suite.ts";

processorSuite({
  name: "stdio",
  persistent: false,
  setup(inputs) {
    const lines = Object.entries(inputs).flatMap(([stream, payloads]) =>
      payloads.map((payload) => `[${stream}] ${payload}\n`)
    );
    let printed = "";
    const output = new WritableStream<Uint8Array>({
      write: (chunk) => void (printed += new TextDecoder().decode(chunk)),
    });
    return Promise.resolve({
      inputUrl: (streams) => `stdio:///${streams.join(",")}`,
      outputUrl: (stream) => `stdio:///${stream}`,
      connect: {
        stdio: { input: ReadableStream.from([new TextEncoder().encode(lines.join(""))]), output },
      },
      handle: { mode: "real-time" },
      endsByItself: true,
      async outputs(stream, count) {
        while (true) {
          const found = printed.split("\n").filter(Boolean).map((line) =>
            parseLine(new TextEncoder().encode(line))
          ).filter((parsed) => parsed.header.streamKey === stream)
            .map((parsed) => new TextDecoder().decode(parsed.payload));
          if (found.length >= count) return found.slice(0, count);
          await sleep(10);
        }
      },
      cleanup: () => Promise.resolve(),
    });
  },
});
