import { and, desc, eq, gte, lt, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "~/server/db";
import { containsPattern, prefixPattern } from "~/server/db/like-pattern";
import { auditLog } from "~/server/db/schema";
import type { AuditActor } from "./audit-actor";

export interface AuditRecord {
  /** `<subject>.<verb>`: `credits.adjust`, `channel.update`… */
  action: string;
  target: { type: string; id: string; label?: string | null };
  /** The fields the change touched, as they were and as they are; secrets are redacted here. */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  note?: string | null;
}

/**
 * Field names whose values are secrets: shown only as changed, never written. "token" only at the end (`accessToken`,
 * `refresh_token`), so that counts such as `tokensPerMinute` stay readable.
 */
const SECRET_FIELD = /(api_?key|secret|password|hash|encrypted)|token$/i;
export const REDACTED = "[redacted]";

/** A copy with every secret-named field's value replaced (at any depth), and bigints as decimal text. */
export function redactSecrets(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => [
        key,
        SECRET_FIELD.test(key) && field !== null && field !== undefined ? REDACTED : redactSecrets(field),
      ]),
    );
  }
  return value;
}

/**
 * The fields of `after` that differ from `before`, each side with only those fields: what an audit row should show
 * for an edit. Values compare by their JSON form (bigints and dates included).
 */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const changedBefore: Record<string, unknown> = {};
  const changedAfter: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(redactSecrets(before[key])) === JSON.stringify(redactSecrets(after[key]))) continue;
    changedBefore[key] = before[key] ?? null;
    changedAfter[key] = after[key] ?? null;
  }
  return { before: changedBefore, after: changedAfter };
}

/** Writes one audit row, in the caller's transaction: the change and its record commit or roll back together. */
export async function recordAudit(tx: Queryable, actor: AuditActor, record: AuditRecord): Promise<void> {
  await tx.insert(auditLog).values({
    actorId: actor.userId,
    actor: actor.label,
    via: actor.via,
    action: record.action,
    targetType: record.target.type,
    targetId: record.target.id,
    targetLabel: record.target.label ?? null,
    before: record.before == null ? null : (redactSecrets(record.before) as Record<string, unknown>),
    after: record.after == null ? null : (redactSecrets(record.after) as Record<string, unknown>),
    note: record.note ?? null,
  });
}

export const auditFilterSchema = z.object({
  /** An action's exact name, or a subject (`channel`) for all its verbs. */
  action: z.string().trim().min(1).max(100).nullish(),
  targetType: z.string().trim().min(1).max(100).nullish(),
  targetId: z.string().trim().min(1).max(200).nullish(),
  /** A target's exact id, or part of its label (an email, a channel's name). */
  target: z.string().trim().min(1).max(200).nullish(),
  /** Part of the actor's label (an email, `cli:`). */
  actor: z.string().trim().min(1).max(200).nullish(),
  from: z.date().nullish(),
  to: z.date().nullish(),
});
export type AuditFilter = z.input<typeof auditFilterSchema>;

export type AuditEntry = typeof auditLog.$inferSelect;

/** Newest first, `limit` at a time; the cursor is the id of the last row of the previous page. */
export async function listAuditLog(
  db: Database,
  input: AuditFilter,
  page: { cursor: number | null; limit: number },
): Promise<{ items: AuditEntry[]; nextCursor: number | null }> {
  const filter = auditFilterSchema.parse(input);
  const conditions: (SQL | undefined)[] = [
    filter.action == null
      ? undefined
      : or(eq(auditLog.action, filter.action), sql`${auditLog.action} like ${prefixPattern(`${filter.action}.`)}`),
    filter.targetType == null ? undefined : eq(auditLog.targetType, filter.targetType),
    filter.targetId == null ? undefined : eq(auditLog.targetId, filter.targetId),
    filter.target == null
      ? undefined
      : or(eq(auditLog.targetId, filter.target), sql`${auditLog.targetLabel} ilike ${containsPattern(filter.target)}`),
    filter.actor == null ? undefined : sql`${auditLog.actor} ilike ${containsPattern(filter.actor)}`,
    filter.from == null ? undefined : gte(auditLog.at, filter.from),
    filter.to == null ? undefined : lt(auditLog.at, filter.to),
    page.cursor === null ? undefined : lt(auditLog.id, page.cursor),
  ];
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.id ?? null) : null };
}
