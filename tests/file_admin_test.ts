/** The universal tests of `live: false` and `resetGroup` on the file backend (one file). */
import { after } from "node:test";
import { SeaStreamer } from "../mod.ts";
import { joinPath, makeTempDir, remove } from "../runtime/mod.ts";
import { adminSuite } from "./support/admin_suite.ts";

const dir = await makeTempDir("seastreamer-file-admin-");
after(() => remove(dir));

adminSuite({
  name: "file",
  connect: () =>
    SeaStreamer.connect(`file://${joinPath(dir, "admin.ss")}`, {
      file: { createIfNotExists: true },
    }),
});
