import { and, eq } from "drizzle-orm";
import type { Database } from "~/server/db";
import { accounts, users } from "~/server/db/schema";
import { findUserByEmail } from "~/server/services/users";

/** Why a provider sign-in is refused: the sign-in page's `?error=` code, which it explains. */
export type OAuthRefusal =
  "OAuthNoEmail" | "EmailNotVerified" | "ConfirmEmailFirst" | "AccountDeleted" | "AccountDisabled";

export interface OAuthIdentity {
  provider: string;
  providerAccountId: string;
  email: unknown;
  /** As the provider reported it: OpenID Connect's `email_verified` (some send the string "true"). */
  emailVerified: unknown;
}

/**
 * Whether a sign-in through GitHub, Google or the company's provider may go on. An identity already joined to an
 * account signs in to it (unless the account was deleted). Otherwise it takes the account with the same address, or
 * makes one, only when the provider vouches that the address is the person's; and it does not join an account whose
 * password was set by someone who never proved the address theirs: whoever signed up first with another person's
 * address must not keep a way in once that person arrives through their provider (they reset the password or confirm
 * the address first, which proves it).
 */
export async function decideOAuthSignIn(db: Database, identity: OAuthIdentity): Promise<"allow" | OAuthRefusal> {
  const [linked] = await db
    .select({ deletedAt: users.deletedAt, disabledAt: users.disabledAt })
    .from(accounts)
    .innerJoin(users, eq(users.id, accounts.userId))
    .where(and(eq(accounts.provider, identity.provider), eq(accounts.providerAccountId, identity.providerAccountId)))
    .limit(1);
  if (linked !== undefined)
    return linked.deletedAt !== null ? "AccountDeleted" : linked.disabledAt !== null ? "AccountDisabled" : "allow";
  if (typeof identity.email !== "string" || identity.email === "") return "OAuthNoEmail";
  if (identity.emailVerified !== true && identity.emailVerified !== "true") return "EmailNotVerified";
  const existing = await findUserByEmail(db, identity.email);
  if (existing === null) return "allow";
  if (existing.deletedAt !== null) return "AccountDeleted";
  if (existing.disabledAt !== null) return "AccountDisabled";
  if (existing.emailVerified === null && existing.passwordHash !== null) return "ConfirmEmailFirst";
  return "allow";
}
