/**
 * Every example, run as users run it (a child process under this runtime), on
 * each backend it is meant for; the processor example is the same code on
 * every backend, switched only by its URL arguments.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeTempDir, remove } from "../runtime/mod.ts";
import { readAll, spawnScript } from "./support/spawn.ts";
import { uniqueName } from "./support/helpers.ts";
import { KAFKA_URL, requireKafka } from "./support/kafka.ts";
import { REDIS_URL } from "./support/redis.ts";
import { SeaStreamer } from "../mod.ts";

const dir = await makeTempDir("seastreamer-examples-");
after(() => remove(dir));

async function example(name: string, args: string[], input?: string) {
  const child = spawnScript(`../examples/${name}`, import.meta.url, args, {
    stdin: input === undefined ? "ignore" : "pipe",
  });
  if (input !== undefined) {
    const writer = child.stdin!.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const [stdout, stderr] = await Promise.all([readAll(child.stdout), readAll(child.stderr)]);
  const { code } = await child.status;
  assert.equal(code, 0, `${name} ${args.join(" ")} exited ${code}: ${stderr}`);
  return { stdout, stderr };
}

/** A backend a URL-switched example runs on; `session()` gives a fresh namespace of streams. */
interface Store {
  name: string;
  session(): {
    url(stream: string): string;
    shared?(stream: string, members: number): Promise<void>;
  };
}

const stores: Store[] = [
  {
    name: "file",
    session() {
      const file = `file://${dir}/${uniqueName("ex")}.ss`;
      return { url: (stream) => `${file}/${stream}` };
    },
  },
  {
    name: "kafka",
    session() {
      const prefix = uniqueName("ex");
      return {
        url: (stream) => `${KAFKA_URL}/${prefix}-${stream}`,
        // Kafka shares a topic by partitions: give it one per member.
        async shared(stream, members) {
          await requireKafka();
          const streamer = await SeaStreamer.connect(KAFKA_URL, { kafka: { partitions: members } });
          await (await streamer.createConsumer([`${prefix}-${stream}`])).end();
          await streamer.disconnect();
        },
      };
    },
  },
  {
    name: "redis",
    session() {
      const prefix = uniqueName("ex");
      return { url: (stream) => `${REDIS_URL}/${prefix}-${stream}` };
    },
  },
];

describe("examples", () => {
  it("demo: clock, processor and consumer on a file, ending by itself", async () => {
    const { stdout } = await example("demo", []);
    assert.match(stdout, /replayed the file: 20 ticks and 20 tocks; sum of squares 1\.\.20 = 2870/);
  });

  for (const store of stores) {
    it(`producer, then consumer (${store.name})`, async () => {
      const url = store.session().url("orders");
      await example("producer", [url, "12"]);
      const { stdout } = await example("consumer", [url, "12"]);
      const lines = stdout.trim().split("\n");
      assert.equal(lines.length, 12);
      assert.match(lines[11], /orders #\d+: \{"id":11,"total":110\}/);
    });

    it(`processor: orders to invoices (${store.name})`, async () => {
      const at = store.session();
      await example("producer", [at.url("orders"), "5"]);
      await example("processor", [at.url("orders"), at.url("invoices"), "5"]);
      const { stdout } = await example("consumer", [at.url("invoices"), "5"]);
      assert.match(stdout, /\{"invoice":4,"amount":40,"vat":8\}/);
    });

    it(`resumable: a second run continues after the first's commits (${store.name})`, async () => {
      const url = store.session().url("orders");
      const group = uniqueName("billing");
      await example("producer", [url, "10"]);
      const first = await example("resumable", [url, group, "5"]);
      const second = await example("resumable", [url, group, "5"]);
      assert.deepEqual(first.stdout.match(/\d+$/gm), ["0", "1", "2", "3", "4"]);
      assert.deepEqual(second.stdout.match(/\d+$/gm), ["5", "6", "7", "8", "9"]);
    });

    it(`resumable: SIGINT while waiting exits 0, everything printed is committed (${store.name})`, async () => {
      const url = store.session().url("orders");
      const group = uniqueName("billing");
      await example("producer", [url, "6"]);
      const child = spawnScript("../examples/resumable", import.meta.url, [url, group, "100"], {
        stdin: "ignore",
      });
      const stderr = readAll(child.stderr);
      const reader = child.stdout!.pipeThrough(new TextDecoderStream()).getReader();
      let printed = "";
      let signalled = false;
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        printed += read.value;
        // It waits for a 7th order once it printed six: the signal must end the wait.
        if (!signalled && (printed.match(/\n/g) ?? []).length >= 6) {
          child.kill("SIGINT");
          signalled = true;
        }
      }
      assert.ok(signalled, `ended before the signal: ${printed} ${await stderr}`);
      assert.equal((await child.status).code, 0, await stderr);
      assert.deepEqual(printed.match(/\d+$/gm), ["0", "1", "2", "3", "4", "5"]);
      await example("producer", [url, "1"]); // another id 0, after the six
      const after = await example("resumable", [url, group, "1"]);
      assert.deepEqual(after.stdout.match(/\d+$/gm), ["0"], "nothing committed is seen again");
    });

    it(`load-balanced workers share the jobs (${store.name})`, async () => {
      const at = store.session();
      const url = at.url("jobs");
      await at.shared?.("jobs", 3);
      await example("producer", [url, "30"]);
      const { stdout } = await example("load_balanced", [url, uniqueName("w"), "3", "30"]);
      const counts = [...stdout.matchAll(/worker \d+: (\d+) jobs/g)].map((m) => Number(m[1]));
      assert.equal(counts.reduce((a, b) => a + b, 0), 30, stdout);
      assert.ok(counts.length >= 2, `work should spread: ${stdout}`);
    });

    it(`buffered batching (${store.name})`, async () => {
      const url = store.session().url("events");
      await example("producer", [url, "250"]);
      const { stdout } = await example("buffered", [url, "100", "200"]);
      assert.match(stdout, /250 messages in all/);
      assert.match(stdout, /^batch of 100/m);
    });

    it(`router: retries, dead letters, typed payloads (${store.name})`, async () => {
      const at = store.session();
      await example("producer", [at.url("orders"), "3"]);
      await example("producer", [at.url("orders"), "1"]); // a second id 0
      const group = uniqueName("g");
      const { stderr } = await example("router", [
        at.url("orders"),
        at.url("invoices"),
        group,
        "4",
      ]);
      assert.match(stderr, /handled 4 orders/);
      const { stdout } = await example("consumer", [at.url("invoices"), "4"]);
      assert.equal(stdout.trim().split("\n").length, 4);
    });
  }

  it("processor and router over stdio pipes", async () => {
    const input = '[orders] {"id":1,"total":5}\n[orders] bad\n';
    const plain = await example("router", ["stdio:///orders", "stdio:///invoices"], input);
    assert.match(plain.stdout, /\| invoices \| 0\] \{"invoice":1,"amount":5\}/);
    assert.match(plain.stdout, /\| orders\.dlq \| 0\] \{"error":"payload is not valid JSON/);
    const processed = await example(
      "processor",
      ["stdio:///orders", "stdio:///invoices"],
      '[orders] {"id":2,"total":10}\n',
    );
    assert.match(processed.stdout, /\| invoices \| 0\] \{"invoice":2,"amount":10,"vat":2\}/);
  });
});
