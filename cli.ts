#!/usr/bin/env -S deno run -A
/**
 * The `seastreamer` command-line tool: `clock`, `produce`, `consume`/`tail`,
 * `relay` on any backend URL. Run `seastreamer --help`.
 *
 * @example
 * ```sh
 * seastreamer clock --stream stdio:///clock --interval 100ms --count 3 \
 *   | seastreamer relay --input stdio:///clock --output stdio:///copy
 * ```
 *
 * @module
 */
import { main } from "./cli/main.ts";
import { args, exit, isMainModule } from "./runtime/mod.ts";

export { main };

if (isMainModule(import.meta)) exit(await main(args()));
