/**
 * The SeaStreamer `.ss` files in tests/testdata/seastreamer-file/ (written by
 * SeaStreamer's Rust file backend), found beside the tests whether they run
 * from the sources or from the npm build.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { readFile } from "../../runtime/mod.ts";

/** The path of fixture `name` (e.g. `consumer.ss`). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../testdata/seastreamer-file/${name}`, import.meta.url));
}

/** The bytes of fixture `name`. */
export async function fixture(name: string): Promise<Uint8Array> {
  const bytes = await readFile(fixturePath(name));
  if (bytes === undefined) throw new Error(`missing fixture ${fixturePath(name)}`);
  return bytes;
}
