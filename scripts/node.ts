/**
 * Node versions from npm (`npx -y node@N`), so that CI runs on the Node lines
 * still supported (22 and 24) whatever `node` the machine has.
 *
 * @module
 */
import { delimiter, dirname } from "node:path";
import { getEnv, spawnProcess } from "../runtime/mod.ts";

/** A Node binary and the environment that puts it first on PATH. */
export interface NodeVersion {
  /** Its major version, as asked for. */
  major: number;
  /** The path of its `node` binary. */
  execPath: string;
  /** PATH with its directory first: `node`, and npm's and npx's `#!/usr/bin/env node`, run it. */
  env: { PATH: string };
}

/** Node `major` (22, 24…), fetched by npx from npm on first use and cached by npm after. */
export async function nodeFromNpm(major: number): Promise<NodeVersion> {
  const child = spawnProcess("npx", ["-y", `node@${major}`, "-p", "process.execPath"], {
    stdin: "ignore",
    stderr: "inherit",
  });
  const [stdout, { code }] = await Promise.all([new Response(child.stdout).text(), child.status]);
  const execPath = stdout.trim();
  if (code !== 0 || !execPath) throw new Error(`npx -y node@${major} exited with ${code}`);
  return {
    major,
    execPath,
    env: { PATH: [dirname(execPath), getEnv("PATH") ?? ""].join(delimiter) },
  };
}
