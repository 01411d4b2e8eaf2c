/**
 * The bookkeeping of the fault tests: what was sent, what was acknowledged,
 * what was received, and the checks at the end (every acknowledged message
 * received at least once, nothing received that was never sent).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Consumer, Producer } from "../../mod.ts";
import { sleep } from "../../runtime/mod.ts";

/** A free TCP port on 127.0.0.1 (the OS picks it; free when this resolves). */
export { freePort } from "../../scripts/server_process.ts";

/** Wait until `done()` holds, or fail after `ms` saying what was awaited and where it stands. */
export async function until(
  done: () => boolean,
  ms: number,
  what: string,
  progress: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    assert.ok(Date.now() < deadline, `timed out after ${ms} ms waiting for ${what} ${progress()}`);
    await sleep(50);
  }
}

/** The ledger of one fault run. */
export class Ledger {
  /** Payloads handed to send(). */
  readonly sent = new Set<string>();
  /** Payloads whose send() resolved with a receipt. */
  readonly acknowledged = new Set<string>();
  /** Payloads received, with how many times. */
  readonly received = new Map<string, number>();
  /** Sends that rejected (allowed: they were not acknowledged). */
  failedSends = 0;
  /** The first failed send's error, for the report. */
  firstSendError = "";
  /** Errors consumers threw (the consumer was made again). */
  consumerErrors: string[] = [];

  /** Record a receipt. */
  receive(payload: string): void {
    this.received.set(payload, (this.received.get(payload) ?? 0) + 1);
  }

  /** Acknowledged payloads not received yet. */
  missing(): string[] {
    return [...this.acknowledged].filter((payload) => !this.received.has(payload));
  }

  /** Whether every acknowledged payload was received. */
  complete(): boolean {
    if (this.received.size < this.acknowledged.size) return false;
    for (const payload of this.acknowledged) if (!this.received.has(payload)) return false;
    return true;
  }

  /** Send `payloads` (without waiting for each), then record which were acknowledged. */
  async sendBatch(producer: Producer, payloads: readonly string[]): Promise<void> {
    for (const payload of payloads) this.sent.add(payload);
    const results = await Promise.allSettled(payloads.map((payload) => producer.send(payload)));
    results.forEach((result, i) => {
      if (result.status === "fulfilled") this.acknowledged.add(payloads[i]);
      else {
        this.failedSends++;
        this.firstSendError ||= String(result.reason).slice(0, 200);
      }
    });
  }

  /** Deliveries beyond the first (at-least-once allows them). */
  duplicates(): number {
    let extra = 0;
    for (const count of this.received.values()) extra += count - 1;
    return extra;
  }

  /** The final checks: nothing acknowledged is missing, nothing received was invented. */
  check(): void {
    const lost = this.missing();
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} acknowledged messages were lost`);
    const invented = [...this.received.keys()].filter((payload) => !this.sent.has(payload));
    assert.deepEqual(
      invented.slice(0, 20),
      [],
      `${invented.length} received messages were never sent`,
    );
    assert.ok(this.acknowledged.size > 0, "something was acknowledged");
  }

  /** One line for the test report. */
  summary(): string {
    return `${this.sent.size} sent, ${this.acknowledged.size} acknowledged, ${this.failedSends} sends failed` +
      (this.failedSends ? ` (first: ${this.firstSendError})` : "") + ", " +
      `${this.received.size} distinct received (${this.duplicates()} redelivered), ` +
      `${this.missing().length} lost, ${this.consumerErrors.length} consumer errors` +
      (this.consumerErrors.length ? ` (first: ${this.consumerErrors[0].slice(0, 200)})` : "");
  }
}

/**
 * Read `consumer` into `ledger` until `signal` aborts. A consumer error is
 * recorded and the consumer made again with `remake` (a resumable consumer
 * goes on from its group's committed position); returns the last consumer.
 */
export async function consumeInto(
  ledger: Ledger,
  first: Consumer,
  remake: () => Promise<Consumer>,
  signal: AbortSignal,
): Promise<Consumer> {
  let consumer = first;
  while (!signal.aborted) {
    try {
      const message = await consumer.next(signal);
      ledger.receive(message.payload.text());
    } catch (error) {
      if (signal.aborted) break;
      ledger.consumerErrors.push(String(error));
      await consumer.end().catch(() => {});
      for (;;) {
        await sleep(500);
        try {
          consumer = await remake();
          break;
        } catch (remakeError) {
          if (signal.aborted) return consumer;
          ledger.consumerErrors.push(String(remakeError));
        }
      }
    }
  }
  return consumer;
}
