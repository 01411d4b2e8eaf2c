/**
 * The file backend's admin operations: what a stream holds (one scan of the
 * file) and moving a resumable group (rewriting its group file, as a commit
 * would).
 *
 * @module
 */
import {
  type GroupInfo,
  type SeqNo,
  type SeqPos,
  StreamError,
  type StreamInfo,
  type StreamKey,
} from "../../types.ts";
import { baseName, joinPath, readDir, stat } from "../../runtime/mod.ts";
import { AT_END, MessageReader } from "./reader.ts";
import { GroupOffsets, slotKey } from "./offsets.ts";
import { moveTo, surveyStart } from "./position.ts";
import { Recovery } from "./recovery.ts";
import { resumableMembers } from "./consumer.ts";

/** A stream's messages in the file: how many, the first and last seqNo. */
interface Extent {
  length: number;
  first: SeqNo;
  last: SeqNo;
}

/**
 * What `stream` of the file `path` holds (one scan of the file), and its
 * groups (those with a group file beside it): a resumable group's lag after
 * its commits, a load-balanced group's live members (in any process; its lag
 * is not known). Pending counts 0: a group file keeps positions and claimed
 * byte ranges, not messages.
 */
export async function describeStream(path: string, stream: StreamKey): Promise<StreamInfo> {
  const reader = await openReader(path, stream);
  let extent: Extent | undefined;
  try {
    for (;;) {
      const result = await reader.readPastDamage();
      if (result === AT_END) break;
      if (result.header.streamKey !== stream || result.isEndOfStream) continue;
      const seqNo = result.header.seqNo;
      if (extent === undefined) extent = { length: 1, first: seqNo, last: seqNo };
      else {
        extent.length++;
        if (seqNo < extent.first) extent.first = seqNo;
        if (seqNo > extent.last) extent.last = seqNo;
      }
    }
  } finally {
    await reader.close();
  }
  if (extent === undefined) throw notFound(path, stream);
  const groups: GroupInfo[] = [];
  for (const group of await groupNames(path)) {
    const offsets = await GroupOffsets.load(path, group, reader.header);
    const committed = offsets.committed.get(slotKey(stream, 0));
    if (committed === undefined && offsets.members === 0) continue;
    const behind = committed === undefined
      ? undefined
      : Number(extent.last - (committed > extent.last ? extent.last : committed));
    groups.push({ name: group, members: offsets.members, pending: 0, lag: behind });
  }
  return {
    length: extent.length,
    firstSeqNo: extent.first,
    lastSeqNo: extent.last,
    shards: 1,
    groups,
  };
}

/**
 * Move resumable group `group` of `stream` to `position`: its next consumer
 * starts there (a group without a group file gets one), and its running
 * consumers in this process read on from there (after what they had fetched).
 * A consumer in another process keeps its place; its next commit moves the
 * group on again if it is further than this.
 */
export async function resetGroup(
  path: string,
  stream: StreamKey,
  group: string,
  position: SeqPos | Date,
): Promise<void> {
  const reader = await openReader(path, stream);
  try {
    const size = reader.knownSize;
    const recovery = new Recovery(path, size);
    let last: SeqNo | undefined;
    try {
      last = (await recovery.lastOf(stream))?.seqNo;
    } finally {
      await recovery.close();
    }
    if (last === undefined) throw notFound(path, stream);
    // The group file keeps the last seqNo done with: the next consumer starts after it.
    let done: SeqNo;
    if (position === "beginning") done = 0n;
    else if (position === "end") done = last;
    else if (position instanceof Date) done = await doneBefore(reader, stream, position, last);
    else done = position.at > 0n ? position.at - 1n : 0n;
    const offsets = await GroupOffsets.load(path, group, reader.header);
    const header = { streamKey: stream, shardId: 0, seqNo: done, timestamp: new Date(0) };
    offsets.set(header, true);
    await offsets.save();
    for (const member of resumableMembers(path, group)) member.regroup(header);
  } finally {
    await reader.close();
  }
}

/** The seqNo before `stream`'s first message at or after `time` (jumping with the beacons); `last` if none. */
async function doneBefore(
  reader: MessageReader,
  stream: StreamKey,
  time: Date,
  last: SeqNo,
): Promise<SeqNo> {
  const ms = time.getTime();
  moveTo(
    reader,
    await surveyStart(
      reader,
      [(marker) => marker.streamKey === stream && marker.shardId === 0],
      (marker) => marker.timestamp < ms,
    ),
  );
  for (;;) {
    const result = await reader.readPastDamage();
    if (result === AT_END) return last;
    const { streamKey, shardId, seqNo, timestamp } = result.header;
    if (streamKey !== stream || shardId !== 0 || result.isEndOfStream) continue;
    if (timestamp.getTime() >= ms) return seqNo > 0n ? seqNo - 1n : 0n;
  }
}

/** A reader of `path` at its first message; an empty or missing file holds no `stream`. */
async function openReader(path: string, stream: StreamKey): Promise<MessageReader> {
  if ((await stat(path)) === undefined) throw notFound(path, stream);
  const reader = await MessageReader.open(path);
  if (reader === undefined) throw notFound(path, stream);
  return reader;
}

/** The groups with a group file beside `path` (see `groupFilePath`). */
async function groupNames(path: string): Promise<string[]> {
  const prefix = `${baseName(path)}.group-`;
  const names: string[] = [];
  for (const name of await readDir(joinPath(path, ".."))) {
    if (!name.startsWith(prefix) || !name.endsWith(".json")) continue;
    try {
      names.push(decodeURIComponent(name.slice(prefix.length, -".json".length)));
    } catch {
      // Not a name groupFilePath makes: not a group file.
    }
  }
  return names;
}

function notFound(path: string, stream: StreamKey): StreamError {
  return new StreamError("StreamKeyNotFound", `${path} holds no stream ${stream}`);
}
