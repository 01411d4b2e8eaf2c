/**
 * Byte counts of text, the fastest way each runtime offers.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** The length of `text` in UTF-8 bytes. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
