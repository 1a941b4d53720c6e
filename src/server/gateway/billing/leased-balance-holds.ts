import type { Clock } from "../clock";
import type { BalanceHolds, HoldOutcome } from "./balance-holds";
import type { LeaseGrant, LeaseStatements } from "./lease-statements";
import type { WrittenBatch } from "./usage-writer";

export interface LeaseTuning {
  /** How long a lease lives in the database without renewal: a dead process's lease comes back after this. */
  ttlMs: number;
  /** A lease unused this long is given back. */
  idleMs: number;
  /** A lease never takes more than this share (thousandths) of what the account has available. */
  sharePerMille: number;
  /** The first lease of an account covers this many calls like the one that asked for it. */
  initialCalls: number;
  /** After another process asked for the account's slack, this process holds its calls one by one this long. */
  recallCooldownMs: number;
}

export const DEFAULT_LEASE_TUNING: LeaseTuning = {
  ttlMs: 30_000,
  idleMs: 5_000,
  sharePerMille: 250,
  initialCalls: 32,
  recallCooldownMs: 10_000,
};

export interface LeasedBalanceHoldsOptions {
  statements: LeaseStatements;
  /** Holds placed one by one in the database: keys with a spend limit, and accounts being recalled. */
  callHolds: BalanceHolds;
  clock: Clock;
  /** Tells every process (this one included) to give back its slack on the account's lease. */
  publishRecall(userId: string): Promise<void>;
  /** Told when a lease could not be renewed or returned; the lease expires by itself then. */
  onError(message: string, error: unknown): void;
  tuning?: Partial<LeaseTuning>;
  /** Names this process's leases; random by default. */
  processId?: string;
}

export interface LeasedBalanceHolds extends BalanceHolds {
  /** The lease a call was admitted under, for the usage writer to take its cost out of; undefined for a call hold. */
  leaseOf(holdId: string): string | undefined;
  /** The usage writer committed these settlements: their costs left the leases with the debits. */
  onBatchWritten(written: WrittenBatch): void;
  /** Another process is short of credit for the account: give back this lease's slack, hold calls one by one. */
  recall(userId: string): Promise<void>;
  /**
   * The balance changed outside the usage writer (a top-up, a refund, an adjustment): give back this lease's slack, so
   * that the next call leases from the balance as it is now (a debit may have left less than the leases hold).
   */
  forgetBalance(userId: string): Promise<void>;
  /** Every balance may have changed (this process missed notifications): give back every lease's slack. */
  forgetAllBalances(): Promise<void>;
  /** Gives every lease back (after the usage writer's last batch) and stops renewing. */
  close(): Promise<void>;
}

interface Lease {
  id: string;
  userId: string;
  /** What the database holds for the lease, as this process changed it: grants in, returns and writes out. */
  amountNano: bigint;
  /** Holds of calls in flight, and costs of calls answered but not yet written. */
  usedNano: bigint;
  /** Admission stops trusting the lease here unless it is renewed (before the database would expire it). */
  trustedUntil: number;
  /** What the next grant asks for; doubles while the lease runs out quickly. */
  wantNano: bigint;
  /** What the account had available when the last grant was asked for. */
  availableAtGrantNano: bigint;
  lastGrantAt: number;
  lastUsedAt: number;
  /** The last grant gave nothing: no growing ahead of need before this. */
  dryUntil: number;
  /** The grant being asked for, which concurrent calls share. */
  growing: Promise<LeaseGrant> | null;
}

/** Retries of a call hold refused while other processes were giving back their slack: about a second in all. */
const RECALL_RETRY_DELAYS_MS = [5, 10, 20, 40, 80, 160, 320, 400];
/** A lease is asked to grow ahead of need when its slack falls under this share of it. */
const LOW_WATER_DIVISOR = 4n;
/** After a grant of nothing, a lease is not asked to grow ahead of need for this long. */
const DRY_BACKOFF_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Balance holds on PostgreSQL without a database round trip per call. Each process leases a slice of an account's
 * available balance with one statement (`lease_balance`, drizzle/0011) and admits that account's calls against the
 * slice in memory; the slice grows ahead of need, doubling while calls use it up quickly, and never takes more than a
 * share of what is left, so a busy account costs one round trip per many calls. The invariant is the one per-call
 * holds keep: in the database, balance − held ≥ 0, where held counts every lease whole; in each process, the calls
 * admitted under a lease hold no more than the lease. So no number of processes can admit more than the balance.
 *
 * - The usage writer takes each call's cost out of its lease in the transaction that debits it, so a lease shrinks
 *   exactly as the balance does.
 * - A lease is renewed while its process lives and given back when idle or at shutdown; a process that dies leaves
 *   its lease to expire and be released like any orphaned hold. A process stops trusting a lease it could not renew
 *   before the database would expire it.
 * - A call that finds neither slack nor available balance while other processes hold leases on the account asks
 *   them (NOTIFY) to give their slack back; every process then holds that account's calls one by one for a while,
 *   and the call is tried again. Near exhaustion, admission is as exact as with per-call holds.
 * - Keys with a spend limit keep per-call holds (`callHolds`): their limit is checked in the database on each call.
 */
export function createLeasedBalanceHolds(options: LeasedBalanceHoldsOptions): LeasedBalanceHolds {
  const { statements, callHolds, clock } = options;
  const tuning = { ...DEFAULT_LEASE_TUNING, ...options.tuning };
  const processId = options.processId ?? crypto.randomUUID();
  const leases = new Map<string, Lease>();
  /** Calls admitted under a lease: the lease and what the call holds of it. */
  const leasedHolds = new Map<string, { lease: Lease; amountNano: bigint }>();
  /** Accounts whose calls are held one by one until then (another process was short). */
  const recalledUntil = new Map<string, number>();
  let closed = false;

  const slackOf = (lease: Lease) => lease.amountNano - lease.usedNano;

  function leaseFor(userId: string): Lease {
    let lease = leases.get(userId);
    if (lease === undefined) {
      lease = {
        id: `lease:${processId}:${userId}`,
        userId,
        amountNano: 0n,
        usedNano: 0n,
        trustedUntil: 0,
        wantNano: 0n,
        availableAtGrantNano: 0n,
        lastGrantAt: 0,
        lastUsedAt: clock(),
        dryUntil: 0,
        growing: null,
      };
      leases.set(userId, lease);
    }
    return lease;
  }

  /** Asks the database for at least `minNano` more (one request at a time per lease; concurrent calls share it). */
  function grow(lease: Lease, minNano: bigint): Promise<LeaseGrant> {
    if (lease.growing !== null) return lease.growing;
    const now = clock();
    // A lease that ran out within a second of its last grant was too small for its traffic; it never asks for more
    // than the account had available then (the database grants only a share of that anyway).
    if (lease.lastGrantAt > 0 && now - lease.lastGrantAt < 1_000 && lease.wantNano < lease.availableAtGrantNano) {
      lease.wantNano *= 2n;
    }
    const wantNano = lease.wantNano > minNano ? lease.wantNano : minNano;
    lease.growing = statements
      .leaseBalance({
        leaseId: lease.id,
        userId: lease.userId,
        minNano,
        wantNano,
        sharePerMille: tuning.sharePerMille,
        now: new Date(now),
        expiresAt: new Date(now + tuning.ttlMs),
      })
      .then((grant) => {
        lease.amountNano += grant.grantedNano;
        lease.availableAtGrantNano = grant.availableNano + grant.grantedNano;
        if (grant.grantedNano > 0n) {
          lease.lastGrantAt = now;
          // The grant renewed the whole lease's expiry.
          lease.trustedUntil = now + trustWindow();
        } else lease.dryUntil = now + DRY_BACKOFF_MS;
        return grant;
      })
      .finally(() => {
        lease.growing = null;
      });
    return lease.growing;
  }

  /** How long after a renewal the lease is trusted: a renewal that fails once still leaves a margin before expiry. */
  const trustWindow = () => Math.floor((tuning.ttlMs * 2) / 3);

  function admit(lease: Lease, request: { holdId: string; amountNano: bigint }): HoldOutcome {
    lease.usedNano += request.amountNano;
    lease.lastUsedAt = clock();
    leasedHolds.set(request.holdId, { lease, amountNano: request.amountNano });
    // Grow ahead of need, so the next calls do not wait for it.
    if (slackOf(lease) * LOW_WATER_DIVISOR < lease.amountNano && lease.growing === null && lease.dryUntil <= clock()) {
      grow(lease, 1n).catch((error: unknown) => options.onError("growing a balance lease failed", error));
    }
    return { kind: "held" };
  }

  /** Refused under the lease: when other processes hold leases on the account, have them give back and try again. */
  async function refuseOrRecall(
    request: Parameters<BalanceHolds["place"]>[0],
    lease: Lease,
    grant: LeaseGrant,
  ): Promise<HoldOutcome> {
    if (grant.othersLeasedNano === 0n) {
      return { kind: "insufficient_credits", availableNano: grant.availableNano + slackOf(lease) };
    }
    await options.publishRecall(request.userId);
    let outcome = await callHolds.place(request);
    for (const delayMs of RECALL_RETRY_DELAYS_MS) {
      if (outcome.kind !== "insufficient_credits") break;
      await sleep(delayMs);
      outcome = await callHolds.place(request);
    }
    return outcome;
  }

  /**
   * Gives back the lease's slack, by the amount this process counts: a grant may be committing at the same time, and
   * both change the row by their own amount. (A lease this process stopped trusting may hold more than it counts;
   * that rest is no longer renewed and expires.) A lease with no calls and nothing left is forgotten.
   */
  async function returnSlack(lease: Lease): Promise<void> {
    const slack = slackOf(lease);
    if (slack > 0n) {
      // What is given back is no longer this process's to admit against, whether or not the statement succeeds.
      lease.amountNano -= slack;
      try {
        await statements.returnLease(lease.id, slack);
      } catch (error) {
        options.onError("returning a balance lease failed; it expires by itself", error);
      }
    }
    if (lease.usedNano === 0n && lease.amountNano === 0n && lease.growing === null) leases.delete(lease.userId);
  }

  /** Renews the leases in use, gives back idle ones. */
  async function maintain(): Promise<void> {
    const now = clock();
    const renewing: Lease[] = [];
    for (const lease of leases.values()) {
      const recalled = (recalledUntil.get(lease.userId) ?? 0) > now;
      if (lease.usedNano === 0n && (recalled || now - lease.lastUsedAt >= tuning.idleMs)) {
        await returnSlack(lease);
      } else if (lease.amountNano > 0n) renewing.push(lease);
    }
    for (const [userId, until] of recalledUntil) if (until <= now) recalledUntil.delete(userId);
    if (renewing.length === 0) return;
    try {
      const alive = await statements.renewLeases(
        renewing.map((lease) => lease.id),
        new Date(now + tuning.ttlMs),
      );
      for (const lease of renewing) {
        if (alive.has(lease.id)) lease.trustedUntil = now + trustWindow();
        // Expired and released: the database no longer holds it, so neither may admission.
        else lease.amountNano = 0n;
      }
    } catch (error) {
      options.onError("renewing balance leases failed", error);
    }
  }

  let maintaining: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      maintaining = maintaining.then(maintain).catch((error: unknown) => options.onError("lease upkeep failed", error));
    },
    Math.max(100, Math.floor(tuning.ttlMs / 3)),
  );
  timer.unref();

  return {
    async place(request) {
      const now = clock();
      if (closed || request.keyHasSpendLimit || (recalledUntil.get(request.userId) ?? 0) > now) {
        return callHolds.place(request);
      }
      const lease = leaseFor(request.userId);
      if (lease.wantNano === 0n) lease.wantNano = request.amountNano * BigInt(tuning.initialCalls);
      for (;;) {
        if (lease.trustedUntil <= clock() && lease.amountNano !== 0n) {
          // Not renewed in time: the database may have expired and released it, so it counts for nothing until a grant
          // renews it (or opens it again); its calls in flight then need covering again too.
          lease.amountNano = 0n;
        }
        if (slackOf(lease) >= request.amountNano && lease.trustedUntil > clock()) return admit(lease, request);
        const missing = request.amountNano - (slackOf(lease) > 0n ? slackOf(lease) : 0n);
        const grant = await grow(lease, missing > 0n ? missing : request.amountNano);
        if (slackOf(lease) >= request.amountNano && lease.trustedUntil > clock()) return admit(lease, request);
        if (grant.grantedNano === 0n && grant.availableNano < missing) return refuseOrRecall(request, lease, grant);
        if ((recalledUntil.get(request.userId) ?? 0) > clock()) return callHolds.place(request);
      }
    },

    settle(holdId, costNano) {
      const hold = leasedHolds.get(holdId);
      if (hold === undefined) return callHolds.settle(holdId, costNano);
      // The hold becomes the call's cost until its batch is written (onBatchWritten).
      const settledNano = costNano > 0n ? costNano : 0n;
      if (settledNano < hold.amountNano) {
        hold.lease.usedNano -= hold.amountNano - settledNano;
        hold.amountNano = settledNano;
      }
      return Promise.resolve();
    },

    leaseOf: (holdId) => leasedHolds.get(holdId)?.lease.id,

    onBatchWritten(written) {
      for (const settlement of written.settlements) {
        const hold = leasedHolds.get(settlement.generation.id);
        if (hold === undefined) continue;
        leasedHolds.delete(settlement.generation.id);
        hold.lease.usedNano -= hold.amountNano;
        // The batch (or, for a settlement written twice, the one before it) took the cost out of the lease.
        if (settlement.costNano > 0n) hold.lease.amountNano -= settlement.costNano;
      }
    },

    async recall(userId) {
      recalledUntil.set(userId, clock() + tuning.recallCooldownMs);
      const lease = leases.get(userId);
      if (lease !== undefined) await returnSlack(lease);
    },

    async forgetBalance(userId) {
      const lease = leases.get(userId);
      if (lease !== undefined) await returnSlack(lease);
    },

    async forgetAllBalances() {
      for (const lease of [...leases.values()]) await returnSlack(lease);
    },

    releaseExpired: () => callHolds.releaseExpired(),

    async heldNano(userId) {
      // What calls hold: this process's leased calls and every process's call holds, not the leases' slack.
      return (await statements.callHeldNano(userId)) + (leases.get(userId)?.usedNano ?? 0n);
    },

    keyHeldNano: (apiKeyId) => callHolds.keyHeldNano(apiKeyId),

    async close() {
      closed = true;
      clearInterval(timer);
      await maintaining;
      for (const lease of [...leases.values()]) {
        // A grant still on its way is given back with the rest.
        await lease.growing?.catch(() => {});
        await returnSlack(lease);
      }
    },
  };
}
