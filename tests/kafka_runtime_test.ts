/**
 * The Kafka backend in a fresh process of the runtime under test (Deno, Node or
 * Bun), as users run it. On Deno, with only the permissions it needs: kafkajs
 * reads environment variables when it loads, so without them the program gets
 * a StreamError that says which, instead of kafkajs's own crash.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { execPath, runtimeName, spawnProcess } from "../runtime/mod.ts";
import { KAFKAJS_ENV_VARS } from "../backends/kafka/kafkajs_load.ts";
import { moduleExtension, readAll, spawnScript } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
import { KAFKA_DRIVER, KAFKA_URL, requireKafka } from "./support/kafka.ts";

async function run(command: string, args: string[]) {
  const child = spawnProcess(command, args, { stdin: "ignore" });
  const [stdout, stderr, status] = await Promise.all([
    readAll(child.stdout),
    readAll(child.stderr),
    child.status,
  ]);
  return { code: status.code, stdout, stderr };
}

describe(`kafka on ${runtimeName}`, () => {
  it("a program produces and consumes in a fresh process", async () => {
    await requireKafka();
    const child = spawnScript("./testdata/kafka_roundtrip", import.meta.url, [
      KAFKA_URL,
      uniqueName("rt"),
    ], { stdin: "ignore" });
    const [stdout, stderr, status] = await Promise.all([
      readAll(child.stdout),
      readAll(child.stderr),
      child.status,
    ]);
    assert.equal(status.code, 0, stderr);
    assert.equal(stdout, "ok hello from a child process\n");
  });

  it("deno: works with --allow-net --allow-read and the driver's env variables only", async () => {
    await requireKafka();
    if (runtimeName !== "deno") return; // permissions are Deno's alone
    // The child may not read SEASTREAMER_KAFKA_DRIVER: the URL names the driver. kafkajs
    // reads a known list of variables; @platformatic/kafka's `debug` reads every DEBUG*
    // one, so only the whole environment can be granted to it.
    const platformatic = KAFKA_DRIVER === "platformatic";
    const url = platformatic ? `${KAFKA_URL}?driver=platformatic` : KAFKA_URL;
    const allowEnv = platformatic ? "--allow-env" : `--allow-env=${KAFKAJS_ENV_VARS.join(",")}`;
    const script = fileURLToPath(
      new URL(`./testdata/kafka_roundtrip${moduleExtension}`, import.meta.url),
    );
    const allowed = await run(execPath(), [
      "run",
      "--quiet",
      "--allow-net",
      "--allow-read",
      allowEnv,
      script,
      url,
      uniqueName("rt"),
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stdout, "ok hello from a child process\n");
    const denied = await run(execPath(), [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-net",
      "--allow-read",
      script,
      url,
      uniqueName("rt"),
    ]);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      platformatic
        ? /StreamError\(Runtime\): kafka: @platformatic\/kafka .*--allow-env/
        : /StreamError\(Runtime\): .*--allow-env=NODE_ENV,KAFKAJS_LOG_LEVEL/,
    );
  });
});
