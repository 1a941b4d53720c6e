import { describe, expect, it } from "vitest";
import { createMemoryBalanceHolds, type KeyLimitState } from "~/server/gateway/billing/memory-balance-holds";
import type { Settlement } from "~/server/gateway/billing/usage-writer";

const NOW = Date.parse("2026-11-22T12:00:00Z");

function settlement(id: string, userId: string, costNano: bigint, apiKeyId: string | null = null): Settlement {
  return {
    generation: {
      id,
      userId,
      apiKeyId,
      modelId: "tollgate/echo",
      provider: "tollgate",
      upstreamModel: "echo",
      streamed: false,
      httpStatus: 200,
      latencyMs: 1,
      createdAt: new Date(NOW),
    },
    costNano,
  };
}

describe("in-process balance holds", () => {
  it("admits against balance minus holds, and releases a hold when its settlement is written", async () => {
    const holds = createMemoryBalanceHolds({
      readBalanceNano: () => Promise.resolve(100n),
      readKey: () => Promise.resolve(null),
      clock: () => NOW,
    });
    const hold = (holdId: string, amountNano: bigint) =>
      holds.place({ holdId, userId: "u", apiKeyId: null, keyHasSpendLimit: false, amountNano });
    expect(await hold("a", 60n)).toEqual({ kind: "held" });
    expect(await hold("b", 60n)).toEqual({ kind: "insufficient_credits", availableNano: 40n });
    expect(await holds.heldNano("u")).toBe(60n);
    // "a" cost 25: the balance falls to 75 and the 60 it held is free again.
    holds.onBatchWritten({
      settlements: [settlement("a", "u", 25n)],
      fresh: new Set(["a"]),
      balances: new Map([["u", 75n]]),
    });
    expect(await holds.heldNano("u")).toBe(0n);
    expect(await hold("b", 75n)).toEqual({ kind: "held" });
    expect(await hold("c", 1n)).toEqual({ kind: "insufficient_credits", availableNano: 0n });
  });

  it("counts a settled call at its cost, not its worst case, until its batch is written", async () => {
    const key: KeyLimitState = {
      active: true,
      expiresAt: null,
      spendLimitNano: 100n,
      limitReset: null,
      periodSpendNano: 0n,
      periodStartedAt: null,
    };
    const holds = createMemoryBalanceHolds({
      readBalanceNano: () => Promise.resolve(100n),
      readKey: () => Promise.resolve(key),
      clock: () => NOW,
    });
    const hold = (holdId: string, amountNano: bigint) =>
      holds.place({ holdId, userId: "u", apiKeyId: "k", keyHasSpendLimit: true, amountNano });
    expect(await hold("a", 60n)).toEqual({ kind: "held" });
    await holds.settle("a", 25n);
    // Settled, not yet written: 25 of the balance and of the key's limit stay taken, the other 35 are free at once.
    expect(await holds.heldNano("u")).toBe(25n);
    expect(await holds.keyHeldNano("k")).toBe(25n);
    expect(await hold("b", 75n)).toEqual({ kind: "held" });
    // A failed call costs nothing: its whole hold is released.
    await holds.settle("b", 0n);
    expect(await holds.heldNano("u")).toBe(25n);
    // Settling twice, or a hold that is gone, changes nothing; a hold never grows.
    await holds.settle("a", 40n);
    await holds.settle("gone", 10n);
    expect(await holds.heldNano("u")).toBe(25n);
    // The batch debits the 25 and releases what "a" still held, in one turn.
    holds.onBatchWritten({
      settlements: [settlement("a", "u", 25n, "k"), settlement("b", "u", 0n, "k")],
      fresh: new Set(["a", "b"]),
      balances: new Map([["u", 75n]]),
    });
    expect(await holds.heldNano("u")).toBe(0n);
    expect(await holds.keyHeldNano("k")).toBe(0n);
  });

  it("never installs a balance read that a change overtook", async () => {
    let resolveRead!: (value: bigint) => void;
    let reads = 0;
    const holds = createMemoryBalanceHolds({
      readBalanceNano: () => {
        reads += 1;
        // The first read is slow and answers the balance from before the changes; the repeat reads the current one.
        return reads === 1 ? new Promise((resolve) => (resolveRead = resolve)) : Promise.resolve(30n);
      },
      readKey: () => Promise.resolve(null),
      clock: () => NOW,
    });
    const placing = holds.place({ holdId: "x", userId: "u", apiKeyId: null, keyHasSpendLimit: false, amountNano: 50n });
    // While it reads, a usage batch lowers the balance and then a top-up notice makes it be read again.
    holds.onBatchWritten({ settlements: [], fresh: new Set(), balances: new Map([["u", 10n]]) });
    holds.forgetBalance("u");
    resolveRead(100n);
    expect(await placing).toEqual({ kind: "insufficient_credits", availableNano: 30n });
    expect(reads).toBe(2);
  });

  it("counts a key's limit per UTC period, its other holds included", async () => {
    let key: KeyLimitState = {
      active: true,
      expiresAt: null,
      spendLimitNano: 100n,
      limitReset: "daily",
      periodSpendNano: 70n,
      periodStartedAt: new Date("2026-11-22T00:00:00Z"),
    };
    let now = NOW;
    const holds = createMemoryBalanceHolds({
      readBalanceNano: () => Promise.resolve(1_000n),
      readKey: () => Promise.resolve(key),
      clock: () => now,
    });
    const hold = (holdId: string, amountNano: bigint) =>
      holds.place({ holdId, userId: "u", apiKeyId: "k", keyHasSpendLimit: true, amountNano });
    expect(await hold("a", 20n)).toEqual({ kind: "held" });
    expect(await hold("b", 20n)).toEqual({
      kind: "key_limit_exceeded",
      limitNano: 100n,
      committedNano: 90n,
      resetsAt: new Date("2026-11-23T00:00:00Z"),
    });
    // The next UTC day the stored spend belongs to an ended period: only the hold in flight counts.
    now = Date.parse("2026-11-23T00:00:00Z");
    expect(await hold("b", 80n)).toEqual({ kind: "held" });
    // A disabled key is refused once its change is heard.
    key = { ...key, active: false };
    holds.forgetKey("k");
    expect(await hold("c", 1n)).toEqual({ kind: "key_inactive" });
  });
});
