/**
 * The README's table of what each backend can do, made from the backends'
 * own declarations (`backends/<name>/capabilities.ts`), which the
 * conformance suite checks.
 *
 * @module
 */
import type { Backend, BackendCapabilities } from "../../types.ts";
import { capabilities as stdio } from "../../backends/stdio/capabilities.ts";
import { capabilities as file } from "../../backends/file/capabilities.ts";
import { capabilities as redis } from "../../backends/redis/capabilities.ts";
import { capabilities as kafka } from "../../backends/kafka/capabilities.ts";
import { capabilities as nats } from "../../backends/nats/capabilities.ts";

/** Each backend's declaration, in the README's column order. */
export const BACKEND_CAPABILITIES: ReadonlyArray<readonly [Backend, BackendCapabilities]> = [
  ["stdio", stdio],
  ["file", file],
  ["redis", redis],
  ["kafka", kafka],
  ["nats", nats],
];

const ROWS: ReadonlyArray<readonly [keyof BackendCapabilities, string]> = [
  ["history", 'keeps history (`autoStreamReset: "earliest"`)'],
  ["resumable", "resumable consumers (`commit`)"],
  ["loadBalanced", "load-balanced consumers"],
  ["realTimeGroups", "groups of real-time consumers"],
  ["rewind", "`rewind()`"],
  ["rewindShard", "`rewind(position, shard)`: one shard alone"],
  ["seek", "`seek(date)`"],
  ["binary", "binary payloads"],
  ["keysAndHeaders", "message keys and headers"],
  ["tls", "TLS"],
];

/** The table as Markdown, formatted as `deno fmt` formats it. */
export function capabilityTable(): string {
  const header = ["", ...BACKEND_CAPABILITIES.map(([name]) => name)];
  const rows = ROWS.map(([key, label]) => [
    label,
    ...BACKEND_CAPABILITIES.map(([, can]) => can[key] ? "yes" : "—"),
  ]);
  const widths = header.map((_, i) => Math.max(3, ...[header, ...rows].map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}
