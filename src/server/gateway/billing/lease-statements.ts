/*
 * The lease statements' shapes, in a module of their own that imports nothing: the database layer implements them
 * (src/server/db/hold-statements.ts) without depending on the billing code that uses them.
 */

/** What `lease_balance` (drizzle/0011) answers. */
export interface LeaseGrant {
  grantedNano: bigint;
  /** What the lease holds after the grant. */
  leaseNano: bigint;
  /** What the account still has available in the database, outside every hold and lease. */
  availableNano: bigint;
  /** What the account's leases in other processes hold. */
  othersLeasedNano: bigint;
}

/** The lease statements, run by the database layer (src/server/db/hold-statements.ts). */
export interface LeaseStatements {
  leaseBalance(input: {
    leaseId: string;
    userId: string;
    minNano: bigint;
    wantNano: bigint;
    sharePerMille: number;
    now: Date;
    expiresAt: Date;
  }): Promise<LeaseGrant>;
  /** Gives back up to `amountNano` of a lease (all of it removes it); answers what was given back. */
  returnLease(leaseId: string, amountNano: bigint): Promise<bigint>;
  /** Moves the leases' expiry on; answers the ids that still exist (a missing one expired and was released). */
  renewLeases(leaseIds: readonly string[], expiresAt: Date): Promise<Set<string>>;
  /** What the account's ordinary holds (not leases) hold. */
  callHeldNano(userId: string): Promise<bigint>;
}
