/**
 * The conformance suite on the file backend: once with a fresh file per
 * streamer (1 MiB beacons), once with one file shared by every streamer of
 * the suite and 1 KiB beacons (so messages are split around beacons, and
 * every streamer appends to a file others wrote).
 */
import { after } from "node:test";
import { SeaStreamer } from "../mod.ts";
import { makeTempDir, remove } from "../runtime/mod.ts";
import { conformanceSuite } from "./support/conformance.ts";
import { capabilities as features } from "../backends/file/capabilities.ts";

const dir = await makeTempDir("seastreamer-file-test-");
after(() => remove(dir));

let files = 0;
conformanceSuite({
  name: "file (a file per streamer)",
  features,
  connect: () =>
    SeaStreamer.connect(`file://${dir}/fresh-${++files}.ss`, {
      file: { createIfNotExists: true },
    }),
});

conformanceSuite({
  name: "file (one shared file, 1 KiB beacons)",
  features,
  connect: () =>
    SeaStreamer.connect(`file://${dir}/shared.ss`, {
      file: { createIfNotExists: true, beaconInterval: 1024 },
    }),
});
