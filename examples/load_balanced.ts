/**
 * Load-balanced workers: members of one group share a stream, each message
 * goes to one of them.
 *
 *   deno run -A examples/load_balanced.ts STREAM_URL GROUP WORKERS COUNT
 *   deno run -A examples/load_balanced.ts redis://localhost:6379/jobs workers 3 30
 *
 * @module
 */
import { parseStreamUrl, SeaStreamer } from "../mod.ts";
import { args, shutdownSignal } from "../runtime/mod.ts";

const [url = "stdio:///jobs", group = "workers", workers = "3", count = "30"] = args();
const { streamer: uri, streams } = parseStreamUrl(url);

const streamer = await SeaStreamer.connect(uri);
const members = await Promise.all(
  Array.from({ length: Number(workers) }, () =>
    streamer.createConsumer(streams, {
      mode: "load-balanced",
      group,
      autoStreamReset: "earliest",
      prefetch: 4, // small, so that work spreads instead of piling up at one member
    })),
);

// SIGINT/SIGTERM: every worker stops waiting for its next job.
const shutdown = shutdownSignal();
let remaining = Number(count);
const done = new Map<number, number>();
await Promise.all(members.map(async (member, worker) => {
  while (remaining > 0) {
    if (shutdown.signal.aborted) break;
    const idle = new AbortController();
    const timer = setTimeout(() => idle.abort(), 2000);
    const onShutdown = () => idle.abort();
    shutdown.signal.addEventListener("abort", onShutdown);
    try {
      await member.next(idle.signal);
    } catch {
      break; // idle for 2 s, or shutting down: the work is done (or the stream ended)
    } finally {
      clearTimeout(timer);
      shutdown.signal.removeEventListener("abort", onShutdown);
    }
    remaining--;
    done.set(worker, (done.get(worker) ?? 0) + 1);
  }
}));
for (const [worker, jobs] of [...done].sort()) console.log(`worker ${worker}: ${jobs} jobs`);
shutdown.dispose();
await streamer.disconnect();
