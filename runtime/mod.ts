/**
 * The one layer of seastreamer that touches the runtime's globals (Deno, Node,
 * Bun): timers, background tasks, standard streams, TCP, files, child processes,
 * environment and signals. Everything above it is runtime-agnostic.
 *
 * @example
 * ```ts
 * import { runtimeName, sleep } from "@seastreamer/seastreamer/runtime";
 *
 * await sleep(1);
 * console.log(`running on ${runtimeName}`);
 * ```
 *
 * @module
 */
export { type RuntimeName, runtimeName } from "./detect.ts";
export { settledWithin, sleep, timeout } from "./timers.ts";
export { spawnTask, type Task } from "./task.ts";
export { isBrokenPipe, isTerminal, printError, stderr, stdin, stdout } from "./stdio.ts";
export { connectTcp, listenTcp, type TcpConnection, type TcpListener } from "./net.ts";
export {
  baseName,
  createSymlink,
  type FileInfo,
  joinPath,
  makeDir,
  makeTempDir,
  type OpenFile,
  openFile,
  type OpenOptions,
  readDir,
  readFile,
  readSymlink,
  remove,
  renamePath,
  resolvePath,
  stat,
  waitForChange,
  writeFile,
  writeFileAtomic,
} from "./fs.ts";
export {
  type ChildProcess,
  type ProcessStatus,
  signalProcess,
  type SpawnOptions,
  spawnProcess,
  type StdioSetting,
} from "./subprocess.ts";
export {
  args,
  cwd,
  execPath,
  exit,
  getEnv,
  hostname,
  isMainModule,
  pid,
  setExitCode,
} from "./env.ts";
export { onSignal, type ShutdownSignal } from "./signals.ts";
export { type Shutdown, shutdownSignal } from "./shutdown.ts";
export { type MemoryUsage, memoryUsage, uninitializedBytes } from "./memory.ts";
