import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryFailureCounts, createSignInThrottle, PASSWORD_RESET_LIMITS } from "~/server/auth/sign-in-throttle";
import { emailTokens, users } from "~/server/db/schema";
import type { Logger } from "~/server/gateway/logger";
import { createMailer } from "~/server/mail/mailer";
import { WrongPasswordError } from "~/server/services/account-settings";
import {
  confirmEmailChange,
  InvalidLinkError,
  isLinkUsable,
  requestEmailChange,
  requestPasswordReset,
  resetPassword,
  sendEmailVerification,
  verifyEmail,
  type EmailLinkDeps,
} from "~/server/services/email-links";
import { authenticateUser, createUser, UserExistsError } from "~/server/services/users";
import { startGatewayHarness, type GatewayHarness } from "../../../helpers/gateway-harness";
import { startSmtpInbox, type SmtpInbox } from "../../../helpers/smtp-inbox";

// Mailed links through the real mailer to a real SMTP server: reset a password, confirm an address, move to another.
let harness: GatewayHarness;
let inbox: SmtpInbox;
let deps: EmailLinkDeps;
const ORIGIN = "https://gateway.example";
let people = 0;

beforeAll(async () => {
  harness = await startGatewayHarness();
  inbox = await startSmtpInbox();
  const { db, logger } = harness.container;
  deps = {
    db,
    logger,
    origin: ORIGIN,
    mailer: createMailer({ smtpUrl: inbox.url, from: "Tollgate <t@x.test>", logger }),
  };
});

afterAll(async () => {
  deps?.mailer.close();
  await inbox?.close();
  await harness?.stop();
});

async function person(password = "first password") {
  people += 1;
  return createUser(harness.container.db, { email: `person${people}@example.com`, password });
}

const freshThrottle = () => createSignInThrottle(createMemoryFailureCounts(), PASSWORD_RESET_LIMITS);
const tokenOf = (link: string) => link.split("/").at(-1)!;

describe("password reset", () => {
  it("mails a link that sets a new password once, ends every session and confirms the address", async () => {
    const user = await person();
    const outcome = await requestPasswordReset({ ...deps, throttle: freshThrottle() }, { email: user.email, ip: null });
    expect(outcome).toBe("sent");
    const mail = await inbox.waitFor(user.email, "Reset your Tollgate password");
    expect(mail.from).toBe("t@x.test");
    const link = inbox.linkIn(mail, "/reset-password/");
    expect(link.startsWith(`${ORIGIN}/reset-password/`)).toBe(true);
    expect(mail.html).toContain(link);

    const token = tokenOf(link);
    expect(await isLinkUsable(harness.container.db, token, "password_reset")).toBe(true);
    await resetPassword(harness.container.db, token, "second password");
    expect(await authenticateUser(harness.container.db, user.email, "first password")).toBeNull();
    expect(await authenticateUser(harness.container.db, user.email, "second password")).not.toBeNull();
    const [row] = await harness.container.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.sessionsValidAfter).not.toBeNull();
    expect(row?.emailVerified).not.toBeNull();

    // Once only; and only the hash of the token is stored.
    await expect(resetPassword(harness.container.db, token, "third password")).rejects.toThrow(InvalidLinkError);
    const stored = await harness.container.db.select().from(emailTokens).where(eq(emailTokens.userId, user.id));
    expect(stored.map((link) => link.tokenHash)).not.toContain(token);
  });

  it("answers an unknown address as a known one, and mails nothing", async () => {
    const before = inbox.received.length;
    const throttle = freshThrottle();
    expect(await requestPasswordReset({ ...deps, throttle }, { email: "nobody@example.com", ip: null })).toBe("sent");
    expect(await requestPasswordReset({ ...deps, throttle }, { email: "not an address", ip: null })).toBe("sent");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inbox.received.length).toBe(before);
  });

  it("refuses a fourth request for one address within the hour, and too many from one network", async () => {
    const user = await person();
    const throttle = freshThrottle();
    for (let request = 0; request < 3; request++) {
      expect(await requestPasswordReset({ ...deps, throttle }, { email: user.email, ip: "203.0.113.9" })).toBe("sent");
    }
    expect(await requestPasswordReset({ ...deps, throttle }, { email: user.email, ip: "198.51.100.1" })).toBe(
      "throttled",
    );
    const network = freshThrottle();
    for (let request = 0; request < PASSWORD_RESET_LIMITS.failuresPerIp; request++) {
      await requestPasswordReset({ ...deps, throttle: network }, { email: `spray${request}@x.test`, ip: "192.0.2.7" });
    }
    expect(await requestPasswordReset({ ...deps, throttle: network }, { email: user.email, ip: "192.0.2.7" })).toBe(
      "throttled",
    );
  });

  it("lets only the newest link work, and no link after it expires", async () => {
    const user = await person();
    const throttle = freshThrottle();
    await requestPasswordReset({ ...deps, throttle }, { email: user.email, ip: null });
    const first = tokenOf(inbox.linkIn(await inbox.waitFor(user.email, "Reset"), "/reset-password/"));
    await requestPasswordReset({ ...deps, throttle }, { email: user.email, ip: null });
    await expect.poll(() => inbox.received.filter((mail) => mail.to.includes(user.email)).length).toBe(2);
    const second = tokenOf(
      inbox.linkIn(inbox.received.filter((mail) => mail.to.includes(user.email)).at(-1)!, "/reset-password/"),
    );
    await expect(resetPassword(harness.container.db, first, "another password")).rejects.toThrow(InvalidLinkError);

    await harness.container.db
      .update(emailTokens)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(emailTokens.userId, user.id));
    expect(await isLinkUsable(harness.container.db, second, "password_reset")).toBe(false);
    await expect(resetPassword(harness.container.db, second, "another password")).rejects.toThrow(InvalidLinkError);
    expect(await authenticateUser(harness.container.db, user.email, "first password")).not.toBeNull();
  });
});

describe("confirming and changing the address", () => {
  it("confirms the account's address through the mailed link", async () => {
    const user = await person();
    await sendEmailVerification(deps, user.id);
    const link = inbox.linkIn(await inbox.waitFor(user.email, "Confirm your email address"), "/verify-email/");
    // A link for one purpose does nothing for another.
    await expect(resetPassword(harness.container.db, tokenOf(link), "whatever pass")).rejects.toThrow(InvalidLinkError);
    expect(await verifyEmail(harness.container.db, tokenOf(link))).toEqual({ email: user.email });
    const [row] = await harness.container.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.emailVerified).not.toBeNull();
  });

  it("moves the account to a new address when the link sent there is followed, telling the old one", async () => {
    const user = await person();
    const other = await person();
    const change = (newEmail: string, password: string) =>
      requestEmailChange(deps, { userId: user.id, newEmail, password });
    await expect(change("new-home@example.com", "wrong password")).rejects.toThrow(WrongPasswordError);
    await expect(change(other.email, "first password")).rejects.toThrow(UserExistsError);

    expect(await change("New-Home@Example.com", "first password")).toEqual({ sentTo: "new-home@example.com" });
    const link = inbox.linkIn(
      await inbox.waitFor("new-home@example.com", "Confirm your new email address"),
      "/confirm-email-change/",
    );
    const notice = await inbox.waitFor(user.email, "is being changed");
    expect(notice.text).toContain("new-home@example.com");
    // Nothing changes until the link is followed.
    expect(await authenticateUser(harness.container.db, user.email, "first password")).not.toBeNull();

    expect(await confirmEmailChange(harness.container.db, tokenOf(link))).toEqual({ email: "new-home@example.com" });
    expect(await authenticateUser(harness.container.db, "new-home@example.com", "first password")).not.toBeNull();
    expect(await authenticateUser(harness.container.db, user.email, "first password")).toBeNull();
    await expect(confirmEmailChange(harness.container.db, tokenOf(link))).rejects.toThrow(InvalidLinkError);
  });
});

describe("without SMTP", () => {
  it("writes each mail, link included, to the log", async () => {
    const lines: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger = {
      ...harness.container.logger,
      warn: (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields }),
    } as Logger;
    const user = await person();
    const throttle = freshThrottle();
    const mailer = createMailer({ smtpUrl: undefined, from: "x@y.test", logger });
    await requestPasswordReset({ ...deps, mailer, logger, throttle }, { email: user.email, ip: null });
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]?.message).toContain("SMTP_URL is not set");
    expect(lines[0]?.fields).toMatchObject({ to: user.email, subject: "Reset your Tollgate password" });
    expect(String(lines[0]?.fields?.text)).toMatch(new RegExp(`${ORIGIN}/reset-password/[A-Za-z0-9_-]{43}`));
  });
});
