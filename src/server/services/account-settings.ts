import { and, eq, isNull, sql } from "drizzle-orm";
import type { ChangeBus } from "~/server/changes";
import type { Database } from "~/server/db";
import { apiKeys, users } from "~/server/db/schema";
import { getBalanceNano } from "./credits";
import { hashPassword, NotFoundError, verifyPassword } from "./users";
import { ServiceError } from "./service-error";

/*
 * What customers change about their own account: their name, their password, their sessions, and the account
 * itself. Sessions are signed tokens (JWT), so ending them means recording a moment before which every token is
 * refused (`users.sessions_valid_after`, checked on each request by the auth callbacks).
 */

/** The password given to confirm a change did not match. */
export class WrongPasswordError extends ServiceError {
  constructor() {
    super("invalid_input", "That is not your current password.");
    this.name = "WrongPasswordError";
  }
}

/** A live (not deleted) account, or NotFoundError. */
export async function requireUser(db: Database, userId: string) {
  const [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)))
    .limit(1);
  if (user === undefined) throw new NotFoundError("No such account");
  return user;
}

/** An account signed up through a provider (no password) has nothing to check. */
export async function confirmPassword(passwordHash: string | null, password: string): Promise<void> {
  if (passwordHash !== null && !(await verifyPassword(passwordHash, password))) throw new WrongPasswordError();
}

export async function renameUser(db: Database, userId: string, name: string | null): Promise<void> {
  await requireUser(db, userId);
  await db.update(users).set({ name }).where(eq(users.id, userId));
}

/** Sets a new password and ends every session, this one included: each must sign in again with it. */
export async function changePassword(
  db: Database,
  userId: string,
  passwords: { current: string; next: string },
): Promise<void> {
  const user = await requireUser(db, userId);
  await confirmPassword(user.passwordHash, passwords.current);
  const passwordHash = await hashPassword(passwords.next);
  await db
    .update(users)
    .set({ passwordHash, sessionsValidAfter: sql`now()` })
    .where(eq(users.id, userId));
}

/** Ends every session of the account, on every device. */
export async function endAllSessions(db: Database, userId: string): Promise<void> {
  await requireUser(db, userId);
  await db
    .update(users)
    .set({ sessionsValidAfter: sql`now()` })
    .where(eq(users.id, userId));
}

/** What deleting the account would leave behind, for the customer to read before confirming. */
export async function describeAccountDeletion(
  db: Database,
  userId: string,
): Promise<{ balanceNano: bigint; activeKeys: number }> {
  await requireUser(db, userId);
  const [balanceNano, [keys]] = await Promise.all([
    getBalanceNano(db, userId),
    db
      .select({ count: sql<number>`count(*)::int` })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), eq(apiKeys.purpose, "api"))),
  ]);
  return { balanceNano, activeKeys: keys?.count ?? 0 };
}

/**
 * Deletes the account as its owner sees it: every key is revoked (and every instance told at once), every session
 * ends, and signing in is refused from then on. The user row, its ledger and its usage stay, so the books still add
 * up and a dispute can still be answered; the remaining balance is not paid out by this (the page says so first).
 */
export async function deleteAccount(
  db: Database,
  changes: ChangeBus,
  userId: string,
  password: string,
): Promise<{ revokedKeys: number }> {
  const user = await requireUser(db, userId);
  await confirmPassword(user.passwordHash, password);
  const revoked = await db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ deletedAt: sql`now()`, sessionsValidAfter: sql`now()` })
      .where(eq(users.id, userId));
    return tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
      .returning({ hash: apiKeys.hash });
  });
  // After the commit: every process drops these keys from its cache, as when a key is revoked on its own.
  for (const { hash } of revoked) await changes.publish({ topic: "api-key-revoked", hash });
  return { revokedKeys: revoked.length };
}

/**
 * Whether a session that signed in at `signedInAtMs` is still good: its account exists, is neither deleted nor
 * disabled, and has not ended its sessions since.
 */
export async function isSessionCurrent(db: Database, userId: string, signedInAtMs: number): Promise<boolean> {
  const [user] = await db
    .select({ deletedAt: users.deletedAt, disabledAt: users.disabledAt, sessionsValidAfter: users.sessionsValidAfter })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (user === undefined || user.deletedAt !== null || user.disabledAt !== null) return false;
  return user.sessionsValidAfter === null || signedInAtMs > user.sessionsValidAfter.getTime();
}
