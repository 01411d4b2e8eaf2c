/** Which kafkajs and @platformatic/kafka errors a consumer waits out, and which end it. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { innermostCause, isRebalanceError, isTransientError } from "./errors.ts";
import { kafkajs } from "../../tests/support/kafka.ts";
import { MultipleErrors, NetworkError, ProtocolError } from "@platformatic/kafka";
const {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} = kafkajs;

// kafkajs's type definitions lag its constructors: a protocol error takes the
// broker's error code entry, the coordinator error a message.
type ErrorClass = new (e: unknown) => Error & { retriable: boolean };
const protocolError = (type: string, code: number, retriable: boolean, message: string) =>
  new (KafkaJSProtocolError as unknown as ErrorClass)({ type, code, retriable, message });

describe("kafka errors", () => {
  it("an unreachable broker or a missing coordinator is transient, even after the client gave up", () => {
    const refused = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
    assert.equal(isTransientError(refused), true);
    const noCoordinator = new (KafkaJSGroupCoordinatorNotFound as unknown as ErrorClass)(
      "Failed to find group coordinator",
    );
    assert.equal(isTransientError(noCoordinator), true);
    // What a retrier throws when it runs out of attempts: not retriable itself, its cause is.
    const gaveUp = new KafkaJSNumberOfRetriesExceeded(noCoordinator, {
      retryCount: 5,
      retryTime: 300,
    });
    assert.equal(gaveUp.retriable, false);
    assert.equal(isTransientError(gaveUp), true);
    assert.equal(isTransientError(new Error("wrapped", { cause: refused })), true);
  });

  it("authorization failures and plain errors are not transient", () => {
    const denied = protocolError(
      "GROUP_AUTHORIZATION_FAILED",
      30,
      false,
      "Not authorized to access group",
    );
    assert.equal(isTransientError(denied), false);
    assert.equal(isTransientError(new KafkaJSNonRetriableError("bad request")), false);
    assert.equal(isTransientError(new TypeError("x is undefined")), false);
    assert.equal(isTransientError(undefined), false);
  });

  it("a rebalance's errors are told from failures", () => {
    const rebalancing = protocolError(
      "REBALANCE_IN_PROGRESS",
      27,
      false,
      "The group is rebalancing, so a rejoin is needed",
    );
    assert.equal(isRebalanceError(rebalancing), true);
    assert.equal(isRebalanceError(new KafkaJSConnectionError("Connection closed")), false);
  });

  it("@platformatic/kafka: a network error is transient, a rebalance told apart, inside retries too", () => {
    const lost = new NetworkError("Connection closed");
    const gaveUp = new MultipleErrors("fetch failed 4 times.", [lost, lost]);
    assert.equal(isTransientError(gaveUp), true);
    assert.equal(isRebalanceError(gaveUp), false);
    const rebalancing = new ProtocolError("REBALANCE_IN_PROGRESS");
    assert.equal(isRebalanceError(new MultipleErrors("commit failed.", [rebalancing])), true);
    assert.equal(isTransientError(new ProtocolError("GROUP_AUTHORIZATION_FAILED")), false);
  });

  it("innermostCause follows causes to the last, and a cycle of causes ends", () => {
    const bug = new TypeError("Cannot read properties of undefined");
    assert.equal(
      innermostCause(new Error("outer", { cause: new Error("middle", { cause: bug }) })),
      bug,
    );
    assert.equal(innermostCause(bug), bug);
    assert.equal(innermostCause("text"), "text");
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    assert.ok([a, b].includes(innermostCause(a) as Error));
  });
});
