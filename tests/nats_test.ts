/** The conformance suite on the NATS JetStream backend, against a real server (NATS_URL). */
import { SeaStreamer } from "../mod.ts";
import { conformanceSuite } from "./support/conformance.ts";
import { capabilities as features } from "../backends/nats/capabilities.ts";
import { NATS_URL, requireNats } from "./support/nats.ts";

conformanceSuite({
  name: "nats",
  features,
  connect: async () => {
    await requireNats();
    return await SeaStreamer.connect(NATS_URL);
  },
});
