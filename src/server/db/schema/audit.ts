import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Where an admin action came from: the console in the browser (or its tRPC procedures called directly), the CLI, or
 * the server itself (channels it sets up from its environment at start).
 */
export const auditVia = pgEnum("audit_via", ["console", "cli", "system"]);

/**
 * Every admin action, one row each, written in the transaction of the change it records, so a change that rolls back
 * leaves no row and a row always describes a change that happened. Append-only: a trigger (migration 0015) refuses
 * updates, deletes and truncation. `before`/`after` hold the changed fields only and never a secret: a key or
 * password shows as `"[redacted]"`. There is no foreign key to the actor or the target: the record outlives both.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
    /** The admin's user id; null for the CLI, which has no account. */
    actorId: text(),
    /** Who, as a person reads it: the admin's email, or `cli:<os user>@<host>`. */
    actor: text().notNull(),
    via: auditVia().notNull(),
    /** What was done, `<subject>.<verb>`: `credits.adjust`, `channel.update`, `model-endpoint.price`… */
    action: text().notNull(),
    targetType: text().notNull(),
    targetId: text().notNull(),
    /** The target as a person knows it (an email, a channel name), as it was at the time. */
    targetLabel: text(),
    before: jsonb().$type<Record<string, unknown>>(),
    after: jsonb().$type<Record<string, unknown>>(),
    /** The reason the admin gave, where the action asks for one. */
    note: text(),
  },
  (table) => [
    index().on(table.at),
    index().on(table.targetType, table.targetId, table.at),
    index().on(table.actorId, table.at),
  ],
);
