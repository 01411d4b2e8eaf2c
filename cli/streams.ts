/**
 * `seastreamer streams`: list the streams a server or file holds.
 *
 * @module
 */
import { SeaStreamer } from "../socket.ts";
import { stdout } from "../runtime/mod.ts";
import { encodeUtf8 } from "../core/message.ts";
import { type ParsedArgs, required } from "./args.ts";

/** `streams --input URL`: one stream key per line, sorted. */
export async function streams(args: ParsedArgs): Promise<number> {
  // A server or file URL, not a stream URL: `file://./data.ss` names the file.
  const streamer = await SeaStreamer.connect(required(args, "input"));
  try {
    const keys = await streamer.listStreams();
    const writer = stdout().getWriter();
    try {
      if (keys.length > 0) await writer.write(encodeUtf8(keys.join("\n") + "\n"));
    } finally {
      writer.releaseLock();
    }
  } finally {
    await streamer.disconnect();
  }
  return 0;
}
