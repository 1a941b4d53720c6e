import { describe, expect, it } from "vitest";
import type { BalanceHolds, HoldOutcome, HoldRequest } from "~/server/gateway/billing/balance-holds";
import type { Settlement, WrittenBatch } from "~/server/gateway/billing/usage-writer";
import { createLeasedBalanceHolds } from "~/server/gateway/billing/leased-balance-holds";
import type { LeaseGrant, LeaseStatements } from "~/server/gateway/billing/lease-statements";

/**
 * The lease statements' rules (drizzle/0011) over one account held in memory, with every statement answering after a
 * turn of the event loop, as a database would: what the lease manager is tested against here. The PostgreSQL
 * functions themselves are exercised by test/integration/v1/balance-holds.test.ts.
 */
function fakeDatabase(balanceNano: bigint) {
  const state = {
    balanceNano,
    heldNano: 0n,
    leases: new Map<string, bigint>(),
    callHolds: new Map<string, bigint>(),
    statements: 0,
    largestWantNano: 0n,
  };
  /** Statements wait here while a test holds them back, then run in the order they were sent. */
  let gate: Promise<void> | null = null;
  const turn = async () => {
    if (gate !== null) await gate;
    await new Promise((resolve) => setImmediate(resolve));
  };
  const holdBack = () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    return () => {
      gate = null;
      open();
    };
  };
  const statements: LeaseStatements = {
    async leaseBalance({ leaseId, minNano, wantNano, sharePerMille }): Promise<LeaseGrant> {
      state.statements += 1;
      // PostgreSQL's bigint.
      if (wantNano >= 2n ** 63n || minNano >= 2n ** 63n) throw new Error("value is out of range for type bigint");
      if (wantNano > state.largestWantNano) state.largestWantNano = wantNano;
      await turn();
      const available = state.balanceNano - state.heldNano;
      let granted = 0n;
      if (available >= minNano) {
        const share = (available * BigInt(sharePerMille)) / 1000n;
        const wanted = wantNano < share ? wantNano : share;
        const atLeast = wanted > minNano ? wanted : minNano;
        granted = atLeast < available ? atLeast : available;
      }
      if (granted > 0n) {
        state.heldNano += granted;
        state.leases.set(leaseId, (state.leases.get(leaseId) ?? 0n) + granted);
      }
      let others = 0n;
      for (const [id, amount] of state.leases) if (id !== leaseId) others += amount;
      return {
        grantedNano: granted,
        leaseNano: state.leases.get(leaseId) ?? 0n,
        availableNano: available - granted,
        othersLeasedNano: others,
      };
    },
    async returnLease(leaseId, amountNano) {
      state.statements += 1;
      await turn();
      const amount = state.leases.get(leaseId);
      if (amount === undefined) return 0n;
      const returned = amountNano < amount ? amountNano : amount;
      if (returned === amount) state.leases.delete(leaseId);
      else state.leases.set(leaseId, amount - returned);
      state.heldNano -= returned;
      return returned;
    },
    async renewLeases(leaseIds) {
      await turn();
      return new Set(leaseIds.filter((id) => state.leases.has(id)));
    },
    callHeldNano: () => Promise.resolve(0n),
  };
  /** What the usage writer does for a leased call of `costNano`: debit the balance, take the cost out of the lease. */
  const write = (leaseId: string, costNano: bigint) => {
    state.balanceNano -= costNano;
    const amount = state.leases.get(leaseId) ?? 0n;
    const taken = costNano < amount ? costNano : amount;
    state.leases.set(leaseId, amount - taken);
    state.heldNano -= taken;
  };
  /** Call holds (place_balance_hold) on the same account: what a recalled account's calls use. */
  const callHolds: BalanceHolds = {
    async place(request) {
      await turn();
      const available = state.balanceNano - state.heldNano;
      if (available < request.amountNano) return { kind: "insufficient_credits", availableNano: available };
      state.heldNano += request.amountNano;
      state.callHolds.set(request.holdId, request.amountNano);
      return { kind: "held" };
    },
    settle: () => Promise.resolve(),
    releaseExpired: () => Promise.resolve(0),
    heldNano: () => Promise.resolve(0n),
    keyHeldNano: () => Promise.resolve(0n),
  };
  /** A lease expires and any process releases it (release_expired_balance_holds). */
  const expire = (leaseId: string) => {
    state.heldNano -= state.leases.get(leaseId) ?? 0n;
    state.leases.delete(leaseId);
  };
  return { state, statements, callHolds, write, expire, holdBack };
}

function request(holdId: string, amountNano: bigint): HoldRequest {
  return { holdId, userId: "u", apiKeyId: null, keyHasSpendLimit: false, amountNano };
}

describe("leased balance holds", () => {
  it("admits exactly as many concurrent calls as the balance covers, in far fewer statements than calls", async () => {
    const database = fakeDatabase(50_500n);
    const holds = leasedHolds(database, "a");
    const outcomes: HoldOutcome[] = await Promise.all(
      Array.from({ length: 200 }, (_, index) => holds.place(request(`gen-${index}`, 1_000n))),
    );
    expect(outcomes.filter((outcome) => outcome.kind === "held")).toHaveLength(50);
    expect(outcomes.filter((outcome) => outcome.kind === "insufficient_credits")).toHaveLength(150);
    expect(database.state.heldNano).toBeLessThanOrEqual(database.state.balanceNano);
    expect(database.state.statements).toBeLessThan(50);
    await holds.close();
  });

  it("costs a busy account a handful of statements for a thousand calls, and gives the lease back at close", async () => {
    const database = fakeDatabase(1_000_000_000n);
    const holds = leasedHolds(database, "a");
    for (let index = 0; index < 1_000; index++) {
      const id = `gen-${index}`;
      expect(await holds.place(request(id, 1_000_000n))).toEqual({ kind: "held" });
      await holds.settle(id, 400_000n);
      // The usage writer: debit and take from the lease in the database, then tell the process.
      database.write(holds.leaseOf(id)!, 400_000n);
      holds.onBatchWritten(written(id, 400_000n));
    }
    expect(database.state.statements).toBeLessThanOrEqual(12);
    // A lease never asks for more than the account has.
    expect(database.state.largestWantNano).toBeLessThanOrEqual(1_000_000_000n);
    expect(database.state.balanceNano).toBe(1_000_000_000n - 400_000_000n);
    expect(database.state.heldNano).toBeGreaterThan(0n);
    await holds.close();
    expect(database.state).toMatchObject({ heldNano: 0n, leases: new Map() });
  });

  it("keeps a key with a spend limit on call holds, checked in the database", async () => {
    const database = fakeDatabase(1_000_000n);
    const holds = leasedHolds(database, "a");
    expect(await holds.place({ ...request("gen-limited", 1_000n), keyHasSpendLimit: true })).toEqual({ kind: "held" });
    expect(database.state.callHolds.get("gen-limited")).toBe(1_000n);
    expect(holds.leaseOf("gen-limited")).toBeUndefined();
    await holds.close();
  });

  it("near exhaustion, has the other processes give back their slack, so no call is refused that the balance covers", async () => {
    const database = fakeDatabase(100_000n);
    const processes: ReturnType<typeof leasedHolds>[] = [];
    const recall = async (userId: string) => {
      await Promise.all(processes.map((process) => process.recall(userId)));
    };
    processes.push(leasedHolds(database, "a", recall), leasedHolds(database, "b", recall));
    const [a, b] = processes as [ReturnType<typeof leasedHolds>, ReturnType<typeof leasedHolds>];
    // One call through a leases a quarter of the balance; b then takes everything else, call by call.
    expect(await a.place(request("gen-a", 1_000n))).toEqual({ kind: "held" });
    let admitted = 1;
    for (let index = 0; index < 200; index++) {
      if ((await b.place(request(`gen-b-${index}`, 1_000n))).kind === "held") admitted += 1;
    }
    // Every call the balance covers was admitted, a's slack included, and nothing more.
    expect(admitted).toBe(100);
    expect(database.state.heldNano).toBe(100_000n);
    expect(database.state.heldNano).toBeLessThanOrEqual(database.state.balanceNano);
    await Promise.all(processes.map((process) => process.close()));
  });

  it("stops admitting against a lease that expired in the database, and covers its calls in flight again", async () => {
    let now = 1_000;
    const database = fakeDatabase(40_000n);
    const holds = leasedHolds(database, "a", undefined, () => now);
    expect(await holds.place(request("gen-0", 1_000n))).toEqual({ kind: "held" });
    const leaseId = holds.leaseOf("gen-0")!;
    // The process could not renew it in time; the database released it while gen-0 was still running.
    database.expire(leaseId);
    now += 30_000;
    let inFlight = 1;
    for (let index = 1; index < 60; index++) {
      if ((await holds.place(request(`gen-${index}`, 1_000n))).kind === "held") inFlight += 1;
      // Whatever the process admits, the database holds.
      expect(BigInt(inFlight) * 1_000n).toBeLessThanOrEqual(database.state.leases.get(leaseId) ?? 0n);
    }
    expect(inFlight).toBe(40);
    expect(database.state.heldNano).toBe(40_000n);
    await holds.close();
  });

  it("gives an idle lease back by what it counts, so a grant committing at the same time is not lost", async () => {
    let now = 1_000;
    const database = fakeDatabase(300_000n);
    const holds = createLeasedBalanceHolds({
      statements: database.statements,
      callHolds: database.callHolds,
      clock: () => now,
      publishRecall: () => Promise.resolve(),
      onError: (message, error) => {
        throw new Error(message, { cause: error });
      },
      tuning: { ttlMs: 300, idleMs: 10 },
    });
    expect(await holds.place(request("gen-0", 1_000n))).toEqual({ kind: "held" });
    const leaseId = holds.leaseOf("gen-0")!;
    await holds.settle("gen-0", 1_000n);
    database.write(leaseId, 1_000n);
    holds.onBatchWritten(written("gen-0", 1_000n));
    // Idle, still trusted (renewed or granted within two thirds of its 300 ms life).
    now += 20;
    // A call that needs more than the idle lease holds asks for a grant; the upkeep gives the idle lease back
    // meanwhile; the database then runs the grant first.
    const open = database.holdBack();
    const admitted = holds.place(request("gen-1", 100_000n));
    await new Promise((resolve) => setTimeout(resolve, 250));
    open();
    expect(await admitted).toEqual({ kind: "held" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(database.state.leases.get(leaseId) ?? 0n).toBeGreaterThanOrEqual(100_000n);
    expect(database.state.heldNano).toBe(database.state.leases.get(leaseId));
    await holds.settle("gen-1", 0n);
    holds.onBatchWritten(written("gen-1", 0n));
    await holds.close();
    expect(database.state.heldNano).toBe(0n);
  });
});

function leasedHolds(
  database: ReturnType<typeof fakeDatabase>,
  processId: string,
  publishRecall: (userId: string) => Promise<void> = () => Promise.resolve(),
  clock: () => number = () => 1_000,
) {
  return createLeasedBalanceHolds({
    statements: database.statements,
    callHolds: database.callHolds,
    clock,
    publishRecall,
    onError: (message, error) => {
      throw new Error(message, { cause: error });
    },
    processId,
  });
}

function written(id: string, costNano: bigint): WrittenBatch {
  const generation = { id, userId: "u" } as Settlement["generation"];
  return { settlements: [{ generation, costNano }], fresh: new Set([id]), balances: new Map() };
}
