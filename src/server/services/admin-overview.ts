import { and, desc, eq, gte, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { channels, ledgerEntries, topUps, users } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { readChannelHealth } from "./channel-stats";

/*
 * The operator's first screen: is money coming in and is it more than what the calls cost us; is the gateway busy
 * and healthy now; which channels are failing; which payments need a human. Everything from the rollups and the
 * live statistics, never a scan of the generation log.
 */

const DAY_MS = 86_400_000;
/** How many UTC days the money chart covers, today included. */
export const OVERVIEW_DAYS = 30;
const WORST_CHANNELS = 5;
const ATTENTION_ROWS = 10;

export async function describeOverview(db: Database, now: Date = new Date()) {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const from = new Date(today - (OVERVIEW_DAYS - 1) * DAY_MS);
  const dayAgo = new Date(now.getTime() - DAY_MS);

  const [usageRows, topUpRows, activeRows, health, channelRows, failedTopUps, disputes] = await Promise.all([
    db.execute(sql`
      select to_char(date_trunc('day', hour, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, sum(cost_nano)::text as billed,
        sum(provider_cost_nano)::text as provider_cost, sum(requests)::int as requests
      from usage_hourly where hour >= ${from.toISOString()}::timestamptz group by 1`),
    db.execute(sql`
      select to_char(date_trunc('day', created_at, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, sum(amount_nano)::text as amount
      from ledger_entries where kind = 'topup' and created_at >= ${from.toISOString()}::timestamptz group by 1`),
    db.execute(sql`
      select count(distinct user_id) filter (where hour >= ${dayAgo.toISOString()}::timestamptz)::int as day,
        count(distinct user_id)::int as month
      from usage_hourly where hour >= ${from.toISOString()}::timestamptz`),
    readChannelHealth(db, now.getTime()),
    db
      .select({
        id: channels.id,
        name: channels.name,
        enabled: channels.enabled,
        brokenAt: channels.brokenAt,
        brokenReason: channels.brokenReason,
      })
      .from(channels),
    db
      .select({
        id: topUps.id,
        userId: topUps.userId,
        email: users.email,
        amountNano: topUps.amountNano,
        failureMessage: topUps.failureMessage,
        createdAt: topUps.createdAt,
      })
      .from(topUps)
      .innerJoin(users, eq(users.id, topUps.userId))
      .where(and(eq(topUps.status, "failed"), gte(topUps.createdAt, from)))
      .orderBy(desc(topUps.createdAt))
      .limit(ATTENTION_ROWS),
    db
      .select({
        id: ledgerEntries.id,
        userId: ledgerEntries.userId,
        email: users.email,
        amountNano: ledgerEntries.amountNano,
        note: ledgerEntries.note,
        createdAt: ledgerEntries.createdAt,
      })
      .from(ledgerEntries)
      .innerJoin(users, eq(users.id, ledgerEntries.userId))
      .where(and(eq(ledgerEntries.kind, "dispute"), gte(ledgerEntries.createdAt, from)))
      .orderBy(desc(ledgerEntries.id))
      .limit(ATTENTION_ROWS),
  ]);

  const usageByDay = new Map(
    rowsOf<{ day: string; billed: string; provider_cost: string; requests: number }>(usageRows).map((row) => [
      row.day,
      row,
    ]),
  );
  const topUpsByDay = new Map(rowsOf<{ day: string; amount: string }>(topUpRows).map((row) => [row.day, row.amount]));
  const totals = { topUpsNano: 0n, billedNano: 0n, providerCostNano: 0n, requests: 0 };
  const days = Array.from({ length: OVERVIEW_DAYS }, (_, index) => {
    const day = new Date(from.getTime() + index * DAY_MS).toISOString().slice(0, 10);
    const usage = usageByDay.get(day);
    const topUpsNano = BigInt(topUpsByDay.get(day) ?? "0");
    const billedNano = BigInt(usage?.billed ?? "0");
    const providerCostNano = BigInt(usage?.provider_cost ?? "0");
    totals.topUpsNano += topUpsNano;
    totals.billedNano += billedNano;
    totals.providerCostNano += providerCostNano;
    totals.requests += usage?.requests ?? 0;
    return {
      day,
      topUpsUsd: formatNanoAsUsd(topUpsNano),
      billedUsd: formatNanoAsUsd(billedNano),
      providerCostUsd: formatNanoAsUsd(providerCostNano),
      marginUsd: formatNanoAsUsd(billedNano - providerCostNano),
      requests: usage?.requests ?? 0,
    };
  });

  // Now: the last five minutes of upstream calls over every channel.
  let recentRequests = 0;
  let recentErrors = 0;
  for (const channel of health) {
    recentRequests += channel.stats.last5m.requests;
    recentErrors += channel.stats.last5m.providerErrors + channel.stats.last5m.requestErrors;
  }
  const names = new Map(channelRows.map((channel) => [channel.id, channel]));
  const worstChannels = health
    .map((channel) => {
      const requests = channel.requestsByMinute.reduce((sum, count) => sum + count, 0);
      const errors = channel.errorsByMinute.reduce((sum, count) => sum + count, 0);
      return {
        channelId: channel.channelId,
        name: names.get(channel.channelId)?.name ?? channel.channelId,
        brokenReason: names.get(channel.channelId)?.brokenReason ?? null,
        requests,
        errorRate: requests === 0 ? null : errors / requests,
        latencyP50Ms: channel.stats.latencyMs?.p50 ?? null,
      };
    })
    .filter((channel) => channel.requests > 0)
    .sort((a, b) => (b.errorRate ?? 0) - (a.errorRate ?? 0) || (b.latencyP50Ms ?? 0) - (a.latencyP50Ms ?? 0))
    .slice(0, WORST_CHANNELS);
  const [active] = rowsOf<{ day: number; month: number }>(activeRows);

  return {
    days,
    totals: {
      topUpsUsd: formatNanoAsUsd(totals.topUpsNano),
      billedUsd: formatNanoAsUsd(totals.billedNano),
      providerCostUsd: formatNanoAsUsd(totals.providerCostNano),
      marginUsd: formatNanoAsUsd(totals.billedNano - totals.providerCostNano),
      requests: totals.requests,
    },
    activeAccounts: { lastDay: active?.day ?? 0, last30Days: active?.month ?? 0 },
    now: {
      requestsPerMinute: recentRequests / 5,
      errorRate: recentRequests === 0 ? null : recentErrors / recentRequests,
    },
    brokenChannels: channelRows
      .filter((channel) => channel.enabled && channel.brokenAt !== null)
      .map((channel) => ({ id: channel.id, name: channel.name, reason: channel.brokenReason })),
    worstChannels,
    failedTopUps: failedTopUps.map(({ amountNano, ...topUp }) => ({
      ...topUp,
      amountUsd: formatNanoAsUsd(amountNano),
    })),
    disputes: disputes.map(({ id, amountNano, ...dispute }) => ({
      ...dispute,
      id: id.toString(),
      amountUsd: formatNanoAsUsd(amountNano),
    })),
  };
}
export type AdminOverview = Awaited<ReturnType<typeof describeOverview>>;
