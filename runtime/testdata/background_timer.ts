// Arms a background timer of a minute, prints "armed" and ends its script: the
// process must exit at once, the timer not keeping it alive.
import { backgroundTimeout } from "../timers.ts";

backgroundTimeout(() => console.log("fired"), 60_000);
console.log("armed");
