import { hash, verify } from "@node-rs/argon2";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { balances, users } from "~/server/db/schema";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";
import { ServiceError } from "./service-error";

export type User = typeof users.$inferSelect;
export type UserRole = User["role"];

export const emailSchema = z.email().transform((email) => email.trim().toLowerCase());
export const passwordSchema = z.string().min(8, "Passwords need at least 8 characters").max(256);

/** argon2id with the library's defaults (OWASP-recommended memory and time cost). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

export class UserExistsError extends ServiceError {
  constructor(email: string) {
    super("conflict", `A user with email ${email} already exists`);
    this.name = "UserExistsError";
  }
}

export class NotFoundError extends ServiceError {
  constructor(message: string) {
    super("not_found", message);
    this.name = "NotFoundError";
  }
}

/** Creates a user with a zero balance. Throws UserExistsError when the email is taken. */
/**
 * Creates an account with a password and an empty balance. `actor` is the admin who made it (the CLI, the server's
 * first start), recorded in the audit log in the same transaction; a customer signing up is no admin action.
 */
export async function createUser(
  db: Database,
  input: { email: string; password: string; role?: UserRole; name?: string | null },
  actor?: AuditActor,
): Promise<User> {
  const email = emailSchema.parse(input.email);
  const passwordHash = await hashPassword(passwordSchema.parse(input.password));
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ email, passwordHash, role: input.role ?? "user", name: input.name ?? null })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (user === undefined) throw new UserExistsError(email);
    await tx.insert(balances).values({ userId: user.id }).onConflictDoNothing();
    if (actor !== undefined)
      await recordAudit(tx, actor, {
        action: "user.create",
        target: { type: "user", id: user.id, label: user.email },
        after: { email: user.email, role: user.role, name: user.name },
      });
    return user;
  });
}

export async function findUserByEmail(db: Database, email: string): Promise<User | null> {
  const [user] = await db.select().from(users).where(eq(users.email, email.trim().toLowerCase())).limit(1);
  return user ?? null;
}

export async function requireUserByEmail(db: Database, email: string): Promise<User> {
  const user = await findUserByEmail(db, email);
  if (user === null) throw new NotFoundError(`No user with email ${email}`);
  return user;
}

/** Verified against when the email is unknown, so a failed sign-in takes as long whether or not the account exists. */
let decoyHash: Promise<string> | undefined;

/** Checks an email and password; returns the user or null without saying (or timing) which part was wrong. */
export async function authenticateUser(db: Database, email: string, password: string): Promise<User | null> {
  const user = await findUserByEmail(db, email);
  // A deleted account signs in no more; it is checked like an unknown one, so it cannot be told apart either.
  if (user?.passwordHash == null || user.deletedAt !== null) {
    decoyHash ??= hashPassword("decoy password that no account has");
    await verifyPassword(await decoyHash, password);
    return null;
  }
  return (await verifyPassword(user.passwordHash, password)) ? user : null;
}
