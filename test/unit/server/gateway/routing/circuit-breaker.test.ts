import { describe, expect, it } from "vitest";
import { createCircuitBreaker } from "~/server/gateway/routing/circuit-breaker";

function breakerAt(start = 0) {
  let now = start;
  const breaker = createCircuitBreaker({
    clock: () => now,
    failureThreshold: 3,
    baseCooldownMs: 1_000,
    maxCooldownMs: 8_000,
  });
  return { breaker, advance: (ms: number) => (now += ms) };
}

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive failures, and a success in between starts the count again", () => {
    const { breaker } = breakerAt();
    breaker.recordFailure("a");
    breaker.recordFailure("a");
    breaker.recordSuccess("a");
    breaker.recordFailure("a");
    breaker.recordFailure("a");
    expect(breaker.tryAcquire("a")).toBe(true);
    breaker.recordFailure("a");
    expect(breaker.tryAcquire("a")).toBe(false);
    expect(breaker.tryAcquire("b")).toBe(true);
  });

  it("lets one probe through after the cooldown; its success closes the circuit", () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.recordFailure("a");
    expect(breaker.msUntilAvailable(["a"])).toBe(1_000);
    advance(1_000);
    expect(breaker.tryAcquire("a")).toBe(true);
    // Half-open: one probe at a time.
    expect(breaker.tryAcquire("a")).toBe(false);
    breaker.recordSuccess("a");
    expect(breaker.tryAcquire("a")).toBe(true);
    expect(breaker.tryAcquire("a")).toBe(true);
  });

  it("doubles the cooldown each time a probe fails, up to the maximum", () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.recordFailure("a");
    const cooldowns: number[] = [];
    for (let opening = 0; opening < 5; opening++) {
      const wait = breaker.msUntilAvailable(["a"]);
      cooldowns.push(wait);
      advance(wait);
      expect(breaker.tryAcquire("a")).toBe(true);
      breaker.recordFailure("a");
    }
    expect(cooldowns).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it("waits at least as long as the upstream's Retry-After", () => {
    const { breaker } = breakerAt();
    breaker.recordFailure("a", 30_000);
    expect(breaker.tryAcquire("a")).toBe(true);
    breaker.recordFailure("a", 30_000);
    breaker.recordFailure("a", 30_000);
    expect(breaker.msUntilAvailable(["a", "b"])).toBe(0);
    expect(breaker.msUntilAvailable(["a"])).toBe(30_000);
  });

  it("gives back an unused probe slot", () => {
    const { breaker, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.recordFailure("a");
    advance(1_000);
    expect(breaker.tryAcquire("a")).toBe(true);
    breaker.release("a");
    expect(breaker.tryAcquire("a")).toBe(true);
  });

  it("lets a caller with nothing else probe a cooling circuit early, once the upstream's Retry-After has passed", () => {
    const { breaker, advance } = breakerAt();
    breaker.recordFailure("a");
    breaker.recordFailure("a");
    breaker.recordFailure("a", 500);
    expect(breaker.tryAcquire("a")).toBe(false);
    // Within the upstream's own Retry-After: not even a last resort calls it.
    expect(breaker.tryAcquireEarly("a")).toBe(false);
    advance(500);
    expect(breaker.tryAcquire("a")).toBe(false);
    expect(breaker.tryAcquireEarly("a")).toBe(true);
    // One probe at a time.
    expect(breaker.tryAcquireEarly("a")).toBe(false);
    breaker.recordSuccess("a");
    expect(breaker.tryAcquire("a")).toBe(true);
    // A closed circuit needs no probe.
    expect(breaker.tryAcquireEarly("b")).toBe(true);
  });

  it("keeps the upstream's Retry-After when a later failure gives none", () => {
    const { breaker, advance } = breakerAt();
    breaker.recordFailure("a");
    breaker.recordFailure("a");
    breaker.recordFailure("a", 5_000);
    // A call already in flight times out afterwards, with no Retry-After of its own.
    breaker.recordFailure("a");
    advance(4_999);
    expect(breaker.tryAcquireEarly("a")).toBe(false);
    advance(1);
    expect(breaker.tryAcquireEarly("a")).toBe(true);
  });
});
