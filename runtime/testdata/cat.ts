// Copies stdin to stdout through runtime/'s web streams (the stdio test's child).
import { stdin, stdout } from "../mod.ts";

await stdin().pipeTo(stdout());
