/** The conformance suite on the stdio backend, in loopback and through injected pipes. */
import { SeaStreamer } from "../mod.ts";
import { conformanceSuite } from "./support/conformance.ts";
import { capabilities as features } from "../backends/stdio/capabilities.ts";

conformanceSuite({
  name: "stdio (loopback)",
  features,
  connect: () =>
    SeaStreamer.connect("stdio://", { stdio: { loopback: true, output: new WritableStream() } }),
});

// What the producers print goes through the line format back into the consumers.
// The pipe buffers without bound, as a file between `>>` and `tail -f` would.
conformanceSuite({
  name: "stdio (injected pipe)",
  features,
  connect: () => {
    const pipe = new TransformStream<Uint8Array, Uint8Array>(
      {},
      { highWaterMark: Infinity },
      { highWaterMark: Infinity },
    );
    return SeaStreamer.connect("stdio:///", {
      stdio: { input: pipe.readable, output: pipe.writable },
    });
  },
});
