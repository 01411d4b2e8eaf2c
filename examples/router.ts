/**
 * The processor toolkit: the same order-to-invoice processor as
 * examples/processor.ts, with retries, a dead-letter stream for bad orders,
 * concurrency and graceful shutdown on SIGINT/SIGTERM.
 *
 *   deno run -A examples/router.ts INPUT_URL OUTPUT_URL [GROUP] [COUNT]
 *   deno run -A examples/router.ts file://./shop.ss/orders file://./shop.ss/invoices billing
 *
 * @module
 */
import { deadLetter, observe, retry, Router, withSchema } from "../processor/mod.ts";
import { args } from "../runtime/mod.ts";

const [input = "stdio:///orders", output = "stdio:///invoices", group, count = "Infinity"] = args();

const order = {
  parse(value: unknown): { id: number; total: number } {
    const { id, total } = value as { id?: unknown; total?: unknown };
    if (typeof id !== "number" || typeof total !== "number") throw new Error("not an order");
    return { id, total };
  },
};

let handled = 0;
const router = new Router({
  handleSignals: true,
  middleware: [
    observe({ onEnd: () => ++handled >= Number(count) && router.stop() }),
    deadLetter(),
    retry({ maxAttempts: 3 }),
  ],
});
router.handle(
  input,
  withSchema(order, ({ id, total }) => JSON.stringify({ invoice: id, amount: total })),
  {
    output,
    group,
    concurrency: 8,
    consumer: { file: { live: false } },
    connect: { file: { createIfNotExists: true } },
  },
);
await router.run();
console.error(`handled ${handled} orders`);
