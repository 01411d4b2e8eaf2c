/**
 * A load-balanced member's failover and leaving: it takes over (XPENDING IDLE +
 * XCLAIM) the entries other members left unacknowledged for `claimIdleMs`, so
 * a dead member's messages go to the living.
 *
 * @module
 */
import type { RedisClient } from "./client.ts";
import type { Entry } from "./reader.ts";

/** Who claims, and after how long. */
export interface Claimer {
  /** The shared command connection. */
  readonly client: RedisClient;
  /** The group. */
  readonly group: string;
  /** This member's name. */
  readonly consumerName: string;
  /** Entries idle this long are taken over, ms. */
  readonly claimIdleMs: number;
}

/** How often a member looks for idle entries, ms: often enough to take them soon after they are due. */
export function claimEvery(claimIdleMs: number): number {
  return Math.max(50, Math.min(claimIdleMs / 2, 5000));
}

/** Take over up to `max` entries of `key` that other members left idle; the entries taken. */
export async function claimIdle(claimer: Claimer, key: string, max: number): Promise<Entry[]> {
  const { client, group, consumerName, claimIdleMs } = claimer;
  const pending = await client.call(
    "XPENDING",
    key,
    group,
    "IDLE",
    claimIdleMs,
    "-",
    "+",
    max,
  ) as [string, string, number, number][];
  const ids = pending.filter((entry) => entry[1] !== consumerName).map((entry) => entry[0]);
  if (ids.length === 0) return [];
  return await client.callBuffer(
    "XCLAIM",
    key,
    group,
    consumerName,
    claimIdleMs,
    ...ids,
  ) as Entry[];
}

/** Delete consumer ARGV[2] from group ARGV[1] of stream KEYS[1] if it has no pending entries, atomically. */
const LEAVE_IF_IDLE = `
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  if consumer[2] == ARGV[2] then
    if consumer[4] == 0 then
      return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    end
    return -1
  end
end
return -2`;

/**
 * Remove this member from its group on every key of `keys` where it holds
 * nothing (members' names are unique per process, so they would pile up); on
 * a key where it still holds entries it stays, for the others to claim them.
 */
export async function leaveIfIdle(claimer: Claimer, keys: Iterable<string>): Promise<void> {
  const { client, group, consumerName } = claimer;
  await Promise.all(
    [...keys].map((key) => client.eval(LEAVE_IF_IDLE, 1, key, group, consumerName).catch(() => {})),
  );
}
