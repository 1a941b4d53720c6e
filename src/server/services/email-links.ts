import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, isNull, ne, sql } from "drizzle-orm";
import type { SignInThrottle } from "~/server/auth/sign-in-throttle";
import type { Database } from "~/server/db";
import { emailTokens, users, type EmailTokenPurpose } from "~/server/db/schema";
import type { Logger } from "~/server/gateway/logger";
import type { Mailer } from "~/server/mail/mailer";
import {
  emailChangeMessage,
  emailChangeNoticeMessage,
  emailVerificationMessage,
  passwordResetMessage,
} from "~/server/mail/messages";
import { confirmPassword, requireUser } from "./account-settings";
import { emailSchema, findUserByEmail, hashPassword, passwordSchema, UserExistsError } from "./users";
import { ServiceError } from "./service-error";

/*
 * Links sent by email: reset a forgotten password, confirm an address, move the account to a new address. Each link
 * carries a random token (256 bits) of which only the hash is stored; it works once, until it expires, and a newer
 * link of the same kind replaces it.
 */

const LIFETIME_MS: Record<EmailTokenPurpose, number> = {
  password_reset: 60 * 60_000,
  verify_email: 7 * 24 * 60 * 60_000,
  change_email: 24 * 60 * 60_000,
};

/** Where each link leads (a page that asks to confirm, so that a mail scanner opening the link changes nothing). */
const LINK_PATH: Record<EmailTokenPurpose, string> = {
  password_reset: "/reset-password",
  verify_email: "/verify-email",
  change_email: "/confirm-email-change",
};

/** A link that is unknown, used, replaced or expired. */
export class InvalidLinkError extends ServiceError {
  constructor() {
    super(
      "invalid_input",
      "This link is no longer valid: it was used already, replaced by a newer one, or it expired.",
    );
    this.name = "InvalidLinkError";
  }
}

export interface EmailLinkDeps {
  db: Database;
  mailer: Mailer;
  logger: Logger;
  /** Where the links point: this deployment's public origin. */
  origin: string;
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

async function issueLink(db: Database, userId: string, purpose: EmailTokenPurpose, email: string, origin: string) {
  const token = randomBytes(32).toString("base64url");
  await db.transaction(async (tx) => {
    await tx
      .update(emailTokens)
      .set({ usedAt: sql`now()` })
      .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)));
    await tx.insert(emailTokens).values({
      userId,
      purpose,
      email,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + LIFETIME_MS[purpose]),
    });
  });
  return `${origin.replace(/\/+$/, "")}${LINK_PATH[purpose]}/${token}`;
}

/** The link with this token and purpose, when it is neither used (or replaced) nor expired. */
function usable(token: string, purpose: EmailTokenPurpose) {
  return and(
    eq(emailTokens.tokenHash, hashToken(token)),
    eq(emailTokens.purpose, purpose),
    isNull(emailTokens.usedAt),
    gt(emailTokens.expiresAt, sql`now()`),
  );
}

/** Marks the link used and returns what it was for; InvalidLinkError if it cannot be used (any more). */
async function consumeLink(tx: Database, token: string, purpose: EmailTokenPurpose) {
  const [link] = await tx
    .update(emailTokens)
    .set({ usedAt: sql`now()` })
    .where(usable(token, purpose))
    .returning({ userId: emailTokens.userId, email: emailTokens.email });
  if (link === undefined) throw new InvalidLinkError();
  return link;
}

/**
 * Whether a link can still be used, without using it: the page a link opens says at once when it is dead, instead of
 * after the form is filled in.
 */
export async function isLinkUsable(db: Database, token: string, purpose: EmailTokenPurpose): Promise<boolean> {
  const [link] = await db.select({ id: emailTokens.id }).from(emailTokens).where(usable(token, purpose)).limit(1);
  return link !== undefined;
}

/** Sends in the background: the answer must not wait for (or reveal, by its timing) the SMTP server. */
function sendLater(deps: EmailLinkDeps, send: () => Promise<void>, what: string): void {
  send().catch((error: unknown) => deps.logger.error(`sending the ${what} email failed`, { error }));
}

export type ResetRequestOutcome = "sent" | "throttled";

/**
 * "Forgot your password?": mails a reset link when the address belongs to a live account, and answers the same
 * whether or not it does (nobody learns who has an account). Requests are counted per address and per client address
 * (`throttle`), so the form cannot be used to flood a mailbox.
 */
export async function requestPasswordReset(
  deps: EmailLinkDeps & { throttle: SignInThrottle },
  input: { email: string; ip: string | null },
): Promise<ResetRequestOutcome> {
  const parsed = emailSchema.safeParse(input.email);
  if (!parsed.success) return "sent";
  const attempt = { email: parsed.data, ip: input.ip };
  if ((await deps.throttle.retryAfterSeconds(attempt)) > 0) return "throttled";
  await deps.throttle.recordFailure(attempt);
  const user = await findUserByEmail(deps.db, parsed.data);
  if (user === null || user.deletedAt !== null) return "sent";
  const url = await issueLink(deps.db, user.id, "password_reset", user.email, deps.origin);
  sendLater(
    deps,
    () => deps.mailer.send(passwordResetMessage(user.email, url, LIFETIME_MS.password_reset / 60_000)),
    "password reset",
  );
  return "sent";
}

/**
 * Sets the password a reset link was sent for, ends every session, and counts the address as confirmed (the link
 * reached it).
 */
export async function resetPassword(db: Database, token: string, password: string): Promise<{ email: string }> {
  const passwordHash = await hashPassword(passwordSchema.parse(password));
  return db.transaction(async (tx) => {
    const link = await consumeLink(tx, token, "password_reset");
    const [user] = await tx
      .update(users)
      .set({
        passwordHash,
        sessionsValidAfter: sql`now()`,
        emailVerified: sql`coalesce(${users.emailVerified}, now())`,
      })
      .where(and(eq(users.id, link.userId), eq(users.email, link.email), isNull(users.deletedAt)))
      .returning({ email: users.email });
    // The account was deleted, or moved to another address, since the link was sent.
    if (user === undefined) throw new InvalidLinkError();
    return user;
  });
}

/** Mails a link that confirms the account's current address. */
export async function sendEmailVerification(deps: EmailLinkDeps, userId: string): Promise<void> {
  const user = await requireUser(deps.db, userId);
  if (user.emailVerified !== null) return;
  const url = await issueLink(deps.db, user.id, "verify_email", user.email, deps.origin);
  sendLater(deps, () => deps.mailer.send(emailVerificationMessage(user.email, url)), "verification");
}

export async function verifyEmail(db: Database, token: string): Promise<{ email: string }> {
  return db.transaction(async (tx) => {
    const link = await consumeLink(tx, token, "verify_email");
    const [user] = await tx
      .update(users)
      .set({ emailVerified: sql`coalesce(${users.emailVerified}, now())` })
      .where(and(eq(users.id, link.userId), eq(users.email, link.email), isNull(users.deletedAt)))
      .returning({ email: users.email });
    if (user === undefined) throw new InvalidLinkError();
    return user;
  });
}

/**
 * Starts moving the account to `newEmail` (the password confirms it): a link goes to the new address, which takes
 * effect only when followed; the current address is told.
 */
export async function requestEmailChange(
  deps: EmailLinkDeps,
  input: { userId: string; newEmail: string; password: string },
): Promise<{ sentTo: string }> {
  const user = await requireUser(deps.db, input.userId);
  await confirmPassword(user.passwordHash, input.password);
  const newEmail = emailSchema.parse(input.newEmail);
  if (newEmail === user.email) throw new UserExistsError(newEmail);
  if ((await findUserByEmail(deps.db, newEmail)) !== null) throw new UserExistsError(newEmail);
  const url = await issueLink(deps.db, user.id, "change_email", newEmail, deps.origin);
  sendLater(
    deps,
    async () => {
      await deps.mailer.send(emailChangeMessage(newEmail, url, LIFETIME_MS.change_email / 3_600_000));
      await deps.mailer.send(emailChangeNoticeMessage(user.email, newEmail, `${deps.origin}/account`));
    },
    "email change",
  );
  return { sentTo: newEmail };
}

/** Moves the account to the address the link was sent to, now confirmed. */
export async function confirmEmailChange(db: Database, token: string): Promise<{ email: string }> {
  return db.transaction(async (tx) => {
    const link = await consumeLink(tx, token, "change_email");
    const [taken] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.email, link.email), ne(users.id, link.userId)))
      .limit(1);
    if (taken !== undefined) throw new UserExistsError(link.email);
    const [user] = await tx
      .update(users)
      .set({ email: link.email, emailVerified: sql`now()` })
      .where(and(eq(users.id, link.userId), isNull(users.deletedAt)))
      .returning({ email: users.email });
    if (user === undefined) throw new InvalidLinkError();
    return user;
  });
}
