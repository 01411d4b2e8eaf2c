/**
 * Pieces of URL parsing the network backends share.
 *
 * @module
 */
import { redactUri, StreamError } from "../types.ts";

/** A percent-encoded user or password of `uri`, decoded; bad escapes are `StreamError("StreamUrl")`. */
export function decodeUserInfo(part: string, uri: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw new StreamError("StreamUrl", `malformed user info in ${redactUri(uri)}`, {
      cause: error,
    });
  }
}
