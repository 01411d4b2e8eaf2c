// Prints "ready", then on SIGTERM prints "stopping gracefully" and exits 0.
import { exit, onSignal, stdout } from "../mod.ts";

const writer = stdout().getWriter();
const say = (text: string) => writer.write(new TextEncoder().encode(text + "\n"));
const keepAlive = setInterval(() => {}, 1000);
onSignal("SIGTERM", async () => {
  clearInterval(keepAlive);
  await say("stopping gracefully");
  exit(0);
});
await say("ready");
