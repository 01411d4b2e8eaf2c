/** The conformance suite on the stdio backend, in loopback and through injected pipes. */
import { SeaStreamer } from "../mod.ts";
import { type BackendFeatures, conformanceSuite } from "./support/conformance.ts";

const features: BackendFeatures = {
  history: false,
  resumable: false,
  loadBalanced: true,
  realTimeGroups: true,
  rewind: false,
  seek: false,
  binary: false,
  keysAndHeaders: false,
};

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
