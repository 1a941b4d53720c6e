import { and, desc, eq, ilike, lt, or, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { containsPattern } from "~/server/db/like-pattern";
import { rowsOf } from "~/server/db/raw-rows";
import { balances, ledgerEntries, topUps, users } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { describeApiKey, listApiKeys } from "./api-keys";
import { NotFoundError } from "./users";

/*
 * What an admin sees of one customer's account, for support: who they are, their money (balance, held, spend by
 * day), their keys and limits, and the payments that came in or were disputed. The ledger itself pages apart.
 */

const DAY_MS = 86_400_000;
/** How many UTC days the spend chart covers, today included. */
export const ACCOUNT_SPEND_DAYS = 30;
const RECENT_ROWS = 20;

/**
 * Accounts whose email contains the query, or whose id is it (all of them for an empty query), newest first. The
 * cursor is the id of the last user of the previous page.
 */
export async function searchUsers(db: Database, page: { query: string; limit: number; cursor: string | null }) {
  const query = page.query.trim();
  let after;
  if (page.cursor !== null) {
    // Compare in the database: timestamps there have microseconds, a JS Date only milliseconds.
    const anchor = db.select({ createdAt: users.createdAt }).from(users).where(eq(users.id, page.cursor));
    after = or(
      lt(users.createdAt, sql`(${anchor})`),
      and(eq(users.createdAt, sql`(${anchor})`), lt(users.id, page.cursor)),
    );
  }
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      role: users.role,
      createdAt: users.createdAt,
      disabledAt: users.disabledAt,
      deletedAt: users.deletedAt,
      balanceNano: balances.balanceNano,
    })
    .from(users)
    .leftJoin(balances, eq(balances.userId, users.id))
    .where(and(query === "" ? undefined : or(eq(users.id, query), ilike(users.email, containsPattern(query))), after))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit).map((row) => {
    const balanceNano = row.balanceNano ?? 0n;
    return { ...row, balanceNano, balanceUsd: formatNanoAsUsd(balanceNano) };
  });
  return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.id ?? null) : null };
}

/** The account page's data; `heldNano` comes from wherever admission keeps holds (this process or PostgreSQL). */
export async function describeAccount(
  db: Database,
  heldNano: (userId: string) => Promise<bigint>,
  userId: string,
  now: Date = new Date(),
) {
  const [row] = await db
    .select({ user: users, balance: balances })
    .from(users)
    .leftJoin(balances, eq(balances.userId, users.id))
    .where(eq(users.id, userId))
    .limit(1);
  if (row === undefined) throw new NotFoundError(`No user ${userId}`);
  const { user, balance } = row;
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const from = new Date(today - (ACCOUNT_SPEND_DAYS - 1) * DAY_MS);

  const [held, keys, spendRows, recentTopUps, disputes] = await Promise.all([
    heldNano(userId),
    listApiKeys(db, userId),
    db.execute(sql`
      select to_char(date_trunc('day', hour, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, sum(cost_nano)::text as cost,
        sum(requests)::int as requests
      from usage_hourly
      where user_id = ${userId} and hour >= ${from.toISOString()}::timestamptz
      group by 1 order by 1`),
    db.select().from(topUps).where(eq(topUps.userId, userId)).orderBy(desc(topUps.createdAt)).limit(RECENT_ROWS),
    db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.userId, userId), eq(ledgerEntries.kind, "dispute")))
      .orderBy(desc(ledgerEntries.id))
      .limit(RECENT_ROWS),
  ]);

  const spentByDay = new Map(
    rowsOf<{ day: string; cost: string; requests: number }>(spendRows).map((spend) => [spend.day, spend]),
  );
  let spentNano = 0n;
  let requests = 0;
  const spendByDay = Array.from({ length: ACCOUNT_SPEND_DAYS }, (_, index) => {
    const day = new Date(from.getTime() + index * DAY_MS).toISOString().slice(0, 10);
    const spend = spentByDay.get(day);
    spentNano += BigInt(spend?.cost ?? "0");
    requests += spend?.requests ?? 0;
    return { day, costUsd: formatNanoAsUsd(BigInt(spend?.cost ?? "0")), requests: spend?.requests ?? 0 };
  });
  const balanceNano = balance?.balanceNano ?? 0n;

  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerified: user.emailVerified !== null,
    createdAt: user.createdAt,
    deletedAt: user.deletedAt,
    disabledAt: user.disabledAt,
    disabledReason: user.disabledReason,
    rateLimits: {
      requestsPerMinute: user.requestsPerMinute,
      tokensPerMinute: user.tokensPerMinute,
      concurrentRequests: user.concurrentRequests,
    },
    balanceUsd: formatNanoAsUsd(balanceNano),
    heldUsd: formatNanoAsUsd(held),
    availableUsd: formatNanoAsUsd(balanceNano - held),
    flagReason: balance?.flaggedAt == null ? null : balance.flagReason,
    spendByDay,
    /** Over the days of `spendByDay`, exact. */
    spentUsd: formatNanoAsUsd(spentNano),
    requests,
    keys: keys.map((key) => describeApiKey(key, now)),
    topUps: recentTopUps.map((topUp) => ({
      id: topUp.id,
      source: topUp.source,
      status: topUp.status,
      amountUsd: formatNanoAsUsd(topUp.amountNano),
      failureMessage: topUp.failureMessage,
      createdAt: topUp.createdAt,
    })),
    disputes: disputes.map((entry) => ({
      id: entry.id.toString(),
      amountUsd: formatNanoAsUsd(entry.amountNano),
      note: entry.note,
      createdAt: entry.createdAt,
    })),
  };
}
export type AccountOverview = Awaited<ReturnType<typeof describeAccount>>;
