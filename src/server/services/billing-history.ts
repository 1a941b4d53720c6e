import { and, desc, eq, lt, ne, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { ledgerEntries } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";

/*
 * The Billing page's history: credits as the ledger has them (top-ups, promos, refunds, adjustments, each with its
 * running balance), and usage as one line per UTC day and model from the hourly rollup (which is written with the
 * debits, so its sums are the debits' sums): a customer sees what the money bought, not a line per call.
 */

export type HistoryLine =
  | {
      kind: "credit";
      /** The ledger entry's id. */
      id: string;
      entryKind: string;
      at: Date;
      amountUsd: string;
      balanceAfterUsd: string;
      note: string | null;
    }
  | {
      kind: "usage";
      /** `usage:<day>:<model>`. */
      id: string;
      /** The UTC day, YYYY-MM-DD. */
      day: string;
      /** When the day's last usage of the model was: the end of its last hour. */
      at: Date;
      modelId: string;
      requests: number;
      /** Negative: what the day's calls of the model cost. */
      amountUsd: string;
    };

/** A history page's position: the time of the last line shown (lines are newest first). */
export interface HistoryCursor {
  at: Date;
  /** The last line's id, to break ties between lines at the same time. */
  id: string;
}

const compareLines = (a: HistoryLine, b: HistoryLine) =>
  b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

const isBefore = (line: HistoryLine, cursor: HistoryCursor | null) =>
  cursor === null || line.at < cursor.at || (line.at.getTime() === cursor.at.getTime() && line.id < cursor.id);

/**
 * One page of the account's history, newest first: the next `limit` lines before the cursor among the ledger's
 * credit entries and the rollup's day × model usage lines.
 */
export async function billingHistory(
  db: Database,
  userId: string,
  page: { cursor: HistoryCursor | null; limit: number },
): Promise<{ items: HistoryLine[]; nextCursor: HistoryCursor | null }> {
  const { cursor, limit } = page;
  // Enough of each source to fill the page whichever way they interleave.
  const [credits, usage] = await Promise.all([
    db
      .select()
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.userId, userId),
          ne(ledgerEntries.kind, "usage"),
          cursor === null ? undefined : lt(ledgerEntries.createdAt, new Date(cursor.at.getTime() + 1)),
        ),
      )
      .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id))
      .limit(limit + 1),
    // A day × model line is whole or absent: its hours are summed over the whole day before the cursor applies.
    db.execute(sql`
      select to_char(date_trunc('day', hour, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, model_id,
        max(hour) + interval '1 hour' - interval '1 millisecond' as at, sum(requests)::text as requests,
        sum(cost_nano)::text as cost
      from usage_hourly
      where user_id = ${userId}
        ${cursor === null ? sql`` : sql`and hour < date_trunc('day', ${cursor.at.toISOString()}::timestamptz, 'UTC') + interval '1 day'`}
      group by 1, 2
      having sum(requests) > 0
        ${cursor === null ? sql`` : sql`and max(hour) + interval '1 hour' - interval '1 millisecond' <= ${cursor.at.toISOString()}::timestamptz`}
      order by 3 desc, 2 desc
      limit ${limit + 1}`),
  ]);

  const lines: HistoryLine[] = credits.map((entry) => ({
    kind: "credit" as const,
    id: `credit:${entry.id.toString().padStart(20, "0")}`,
    entryKind: entry.kind,
    at: entry.createdAt,
    amountUsd: formatNanoAsUsd(entry.amountNano),
    balanceAfterUsd: formatNanoAsUsd(entry.balanceAfterNano),
    note: entry.note,
  }));
  for (const row of rowsOf<{ day: string; model_id: string; at: Date | string; requests: string; cost: string }>(
    usage,
  )) {
    lines.push({
      kind: "usage",
      id: `usage:${row.day}:${row.model_id}`,
      day: row.day,
      at: new Date(row.at),
      modelId: row.model_id,
      requests: Number(row.requests),
      amountUsd: formatNanoAsUsd(-BigInt(row.cost)),
    });
  }
  const ordered = lines.filter((line) => isBefore(line, cursor)).sort(compareLines);
  const items = ordered.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: ordered.length > limit && last !== undefined ? { at: last.at, id: last.id } : null,
  };
}
