import { sql } from "drizzle-orm";
import { index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const userRole = pgEnum("user_role", ["user", "admin"]);

/** A person who signs in to the dashboard and owns keys and a balance. Shape required by the Auth.js Drizzle adapter. */
export const users = pgTable("users", {
  id: text()
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID()),
  name: text(),
  email: text().notNull().unique(),
  emailVerified: timestamp({ mode: "date", withTimezone: true }),
  image: text(),
  /** argon2id hash; null for users who only sign in through OAuth. */
  passwordHash: text(),
  role: userRole().notNull().default("user"),
  /** Rate limits across all of the account's keys; null takes the configured default (which may be none). */
  requestsPerMinute: integer(),
  tokensPerMinute: integer(),
  concurrentRequests: integer(),
  /** Sessions signed in before this are over ("sign out everywhere", a new password, a deleted account). */
  sessionsValidAfter: timestamp({ withTimezone: true }),
  /**
   * When the customer deleted the account: it can no longer sign in and its keys were revoked, but the row stays,
   * with its ledger and usage, so the books still add up.
   */
  deletedAt: timestamp({ withTimezone: true }),
  /**
   * When an admin disabled the account: every gateway refuses its keys (403 `account_disabled`) and it cannot sign in,
   * until an admin enables it again. Unlike deletion nothing is revoked, so enabling restores everything as it was.
   */
  disabledAt: timestamp({ withTimezone: true }),
  /** The admin's reason, shown to the customer when a sign-in is refused. */
  disabledReason: text(),
  createdAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

export const accounts = pgTable(
  "accounts",
  {
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text().notNull(),
    provider: text().notNull(),
    providerAccountId: text().notNull(),
    refresh_token: text(),
    access_token: text(),
    expires_at: integer(),
    token_type: text(),
    scope: text(),
    id_token: text(),
    session_state: text(),
  },
  (table) => [primaryKey({ columns: [table.provider, table.providerAccountId] }), index().on(table.userId)],
);

export const sessions = pgTable(
  "sessions",
  {
    sessionToken: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expires: timestamp({ mode: "date", withTimezone: true }).notNull(),
  },
  (table) => [index().on(table.userId)],
);

export const verificationTokens = pgTable(
  "verification_tokens",
  {
    identifier: text().notNull(),
    token: text().notNull(),
    expires: timestamp({ mode: "date", withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.identifier, table.token] })],
);

/** What a link sent by email does when followed. */
export const emailTokenPurpose = pgEnum("email_token_purpose", ["password_reset", "verify_email", "change_email"]);
export type EmailTokenPurpose = (typeof emailTokenPurpose.enumValues)[number];

/**
 * The links Tollgate mails (services/email-links.ts): single use, short-lived, and stored only as a hash, so a
 * database leak yields no working link.
 */
export const emailTokens = pgTable(
  "email_tokens",
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: emailTokenPurpose().notNull(),
    /** Hex SHA-256 of the token in the link. */
    tokenHash: text().notNull().unique(),
    /** Where the link was sent: the account's address, or for a change the new one. */
    email: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    /** Followed, or replaced by a newer link of the same purpose. */
    usedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [index().on(table.userId)],
);
