// A processor process for the kill-and-restart test:
//   worker INPUT_URL OUTPUT_URL GROUP
// Copies each input to the output as "out:<input>", printing "handled N" as it
// goes, and stops by itself once the input has been quiet for 3 s after the
// first message (a restarted Kafka member may wait for a rebalance first).
import { Router } from "../mod.ts";
import { args, sleep, stdout } from "../../runtime/mod.ts";

const [input, output, group] = args();
const writer = stdout().getWriter();
let handled = 0;
let last = Infinity;
const router = new Router({ handleSignals: true });
router.handle(input, async (message) => {
  // Slow enough that a kill after 100 handled lands mid-run, after outputs were
  // acknowledged and inputs committed (the Router lets up to 1000 outputs await
  // acknowledgement, so "handled" alone runs ahead of commits).
  await sleep(20);
  handled++;
  last = Date.now();
  if (handled % 10 === 0) await writer.write(new TextEncoder().encode(`handled ${handled}\n`));
  return `out:${message.payload.text()}`;
}, {
  output,
  group,
  concurrency: 4,
  commitIntervalMs: 20,
  // A killed member's partitions move to the restarted one after this long.
  consumer: { kafka: { sessionTimeoutMs: 6000 } },
  connect: { file: { createIfNotExists: true } },
});
const idle = setInterval(() => {
  if (Date.now() - last > 3000) router.stop();
}, 100);
await router.run();
clearInterval(idle);
await writer.write(new TextEncoder().encode(`done ${handled}\n`));
