/**
 * Running a sibling script or the CLI as a child process under the runtime the
 * tests run on (Deno and Bun run the .ts sources, Node the built .js).
 *
 * @module
 */
import { execPath, runtimeName, type SpawnOptions, spawnProcess } from "../../runtime/mod.ts";
import type { ChildProcess } from "../../runtime/mod.ts";
import { fileURLToPath } from "node:url";

/** The extension of this build's modules: `.ts` from source, `.js` when built. */
export const moduleExtension: string = import.meta.url.endsWith(".js") ? ".js" : ".ts";

/** The command and arguments that run `script` (a path without extension, relative to `base`). */
export function scriptCommand(script: string, base: string | URL): [string, string[]] {
  const path = fileURLToPath(new URL(script + moduleExtension, base));
  if (runtimeName === "deno") return [execPath(), ["run", "-A", "--quiet", path]];
  return [execPath(), [path]];
}

/** Start `script` (relative to `base`, no extension) with `args`. */
export function spawnScript(
  script: string,
  base: string | URL,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): ChildProcess {
  const [command, prefix] = scriptCommand(script, base);
  return spawnProcess(command, [...prefix, ...args], options);
}

/** Start the `seastreamer` CLI with `args`. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawnScript("../../cli", import.meta.url, args, options);
}

/** Everything a readable stream yields, as text. */
export async function readAll(stream: ReadableStream<Uint8Array> | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return new TextDecoder().decode(concat(chunks));
}

/** The lines of a readable stream as they come, without their newlines (a last unterminated line is dropped). */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
}

/** Join byte arrays. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Run the CLI to completion with `input` on stdin; its exit code and output. */
export async function runCli(
  args: readonly string[],
  input = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args);
  const writer = child.stdin!.getWriter();
  const writing = writer.write(new TextEncoder().encode(input)).then(() => writer.close());
  const [stdout, stderr] = await Promise.all([readAll(child.stdout), readAll(child.stderr)]);
  await writing.catch(() => {});
  const { code } = await child.status;
  return { code, stdout, stderr };
}

export type { ChildProcess };
