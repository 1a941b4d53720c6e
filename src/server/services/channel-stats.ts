import { and, eq, gt, gte, lt, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { channelStatMinutes } from "~/server/db/schema";
import {
  MINUTE_MS,
  summarise,
  type ChannelStats,
  type EndpointStats,
  type MinuteCounts,
  type MinuteDelta,
} from "~/server/gateway/routing/channel-stats";
import type { Logger } from "~/server/gateway/logger";

const DAY_MS = 24 * 60 * MINUTE_MS;
/** Histograms are only read for the percentile window; older rows are read for their counts. */
const PERCENTILE_WINDOW_MS = 30 * MINUTE_MS;
/**
 * Rows are re-read from a little before the newest update seen: another process's upsert may commit after ours with
 * an earlier `now()` (its transaction's start). Re-reading a row is harmless, it replaces the same minute.
 */
const REREAD_OVERLAP_MS = 10_000;

/** Element-wise sum of two histograms (a minute's stored total and a process's new counts). */
const addHistograms = (column: string) =>
  sql.raw(
    `(select array_agg(coalesce(stored, 0) + coalesce(added, 0) order by bin)
       from unnest(channel_stat_minutes.${column}, excluded.${column}) with ordinality as sums(stored, added, bin))`,
  );

/** Adds what this process saw to each minute's row, creating it when it is the minute's first flush. */
export async function addChannelStatDeltas(db: Database, deltas: readonly MinuteDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  // Rows in one order in every process: two processes' upserts then lock them in the same order, never in a cycle.
  const ordered = [...deltas].sort(
    (a, b) =>
      a.channelId.localeCompare(b.channelId) || a.upstreamModel.localeCompare(b.upstreamModel) || a.minute - b.minute,
  );
  await db
    .insert(channelStatMinutes)
    .values(
      ordered.map(({ channelId, upstreamModel, minute, counts }) => ({
        channelId,
        upstreamModel,
        minute: new Date(minute),
        successes: counts.successes,
        providerErrors: counts.providerErrors,
        requestErrors: counts.requestErrors,
        outputTokens: counts.outputTokens,
        latencyHistogram: counts.latency,
        firstTokenHistogram: counts.firstToken,
        throughputHistogram: counts.throughput,
      })),
    )
    .onConflictDoUpdate({
      target: [channelStatMinutes.channelId, channelStatMinutes.upstreamModel, channelStatMinutes.minute],
      set: {
        successes: sql`${channelStatMinutes.successes} + excluded.successes`,
        providerErrors: sql`${channelStatMinutes.providerErrors} + excluded.provider_errors`,
        requestErrors: sql`${channelStatMinutes.requestErrors} + excluded.request_errors`,
        outputTokens: sql`${channelStatMinutes.outputTokens} + excluded.output_tokens`,
        latencyHistogram: addHistograms("latency_histogram"),
        firstTokenHistogram: addHistograms("first_token_histogram"),
        throughputHistogram: addHistograms("throughput_histogram"),
        updatedAt: sql`now()`,
      },
    });
}

interface ReadRows {
  rows: MinuteDelta[];
  /** The newest `updated_at` among them (epoch ms), to read only newer rows next time. */
  newestUpdate: number | null;
}

/** Minutes of the last day (or only those updated after `updatedAfter`), histograms only for the last 30 minutes. */
export async function readChannelStatRows(
  db: Database,
  now: number,
  options: { updatedAfter?: number; channelId?: string } = {},
): Promise<ReadRows> {
  const recent = new Date(now - PERCENTILE_WINDOW_MS).toISOString();
  const found = await db
    .select({
      channelId: channelStatMinutes.channelId,
      upstreamModel: channelStatMinutes.upstreamModel,
      minute: channelStatMinutes.minute,
      successes: channelStatMinutes.successes,
      providerErrors: channelStatMinutes.providerErrors,
      requestErrors: channelStatMinutes.requestErrors,
      outputTokens: channelStatMinutes.outputTokens,
      recent: sql<boolean>`${channelStatMinutes.minute} >= ${recent}::timestamptz`,
      latency: channelStatMinutes.latencyHistogram,
      firstToken: channelStatMinutes.firstTokenHistogram,
      throughput: channelStatMinutes.throughputHistogram,
      updatedAt: channelStatMinutes.updatedAt,
    })
    .from(channelStatMinutes)
    .where(
      and(
        gte(channelStatMinutes.minute, new Date(now - DAY_MS)),
        options.updatedAfter === undefined
          ? undefined
          : gt(channelStatMinutes.updatedAt, new Date(options.updatedAfter)),
        options.channelId === undefined ? undefined : eq(channelStatMinutes.channelId, options.channelId),
      ),
    );
  let newestUpdate: number | null = null;
  const rows = found.map((row) => {
    newestUpdate = Math.max(newestUpdate ?? 0, row.updatedAt.getTime());
    const counts: MinuteCounts = {
      successes: row.successes,
      providerErrors: row.providerErrors,
      requestErrors: row.requestErrors,
      outputTokens: row.outputTokens,
      latency: row.recent ? row.latency : [],
      firstToken: row.recent ? row.firstToken : [],
      throughput: row.recent ? row.throughput : [],
    };
    return { channelId: row.channelId, upstreamModel: row.upstreamModel, minute: row.minute.getTime(), counts };
  });
  return { rows, newestUpdate };
}

export interface StoredEndpointStats {
  channelId: string;
  upstreamModel: string;
  stats: EndpointStats;
}

/** Every channel+model's statistics as stored (all processes' flushes), for operators. */
export async function readStoredChannelStats(
  db: Database,
  now: number,
  channelId?: string,
): Promise<StoredEndpointStats[]> {
  const { rows } = await readChannelStatRows(db, now, channelId === undefined ? {} : { channelId });
  const grouped = new Map<string, { channelId: string; upstreamModel: string; minutes: MinuteDelta[] }>();
  for (const row of rows) {
    const key = `${row.channelId}\u0000${row.upstreamModel}`;
    let group = grouped.get(key);
    if (group === undefined) {
      group = { channelId: row.channelId, upstreamModel: row.upstreamModel, minutes: [] };
      grouped.set(key, group);
    }
    group.minutes.push(row);
  }
  return [...grouped.values()].map(({ channelId, upstreamModel, minutes }) => ({
    channelId,
    upstreamModel,
    stats: summarise(minutes, now),
  }));
}

/** How many minutes a channel's sparkline covers, the current one last. */
export const HEALTH_MINUTES = 60;

export interface ChannelHealth {
  channelId: string;
  /** All the channel's models together. */
  stats: EndpointStats;
  /** Calls and failed calls per minute over the last HEALTH_MINUTES minutes, oldest first. */
  requestsByMinute: number[];
  errorsByMinute: number[];
}

/** Each channel's statistics over all its models, with its last hour minute by minute: the console's health view. */
export async function readChannelHealth(db: Database, now: number): Promise<ChannelHealth[]> {
  const { rows } = await readChannelStatRows(db, now);
  const currentMinute = Math.floor(now / MINUTE_MS);
  const byChannel = new Map<string, MinuteDelta[]>();
  for (const row of rows) {
    const minutes = byChannel.get(row.channelId) ?? [];
    minutes.push(row);
    byChannel.set(row.channelId, minutes);
  }
  return [...byChannel.entries()].map(([channelId, minutes]) => {
    const requestsByMinute = Array.from({ length: HEALTH_MINUTES }, () => 0);
    const errorsByMinute = Array.from({ length: HEALTH_MINUTES }, () => 0);
    for (const { minute, counts } of minutes) {
      const index = HEALTH_MINUTES - 1 - (currentMinute - Math.floor(minute / MINUTE_MS));
      if (index < 0 || index >= HEALTH_MINUTES) continue;
      requestsByMinute[index]! += counts.successes + counts.providerErrors + counts.requestErrors;
      errorsByMinute[index]! += counts.providerErrors + counts.requestErrors;
    }
    return { channelId, stats: summarise(minutes, now), requestsByMinute, errorsByMinute };
  });
}

export interface ChannelStatsPersistence {
  /** Writes what was recorded since the last flush, then reads back what every process has stored since. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps a process's in-memory statistics in the database: loads the last day at start, then every `intervalMs`
 * adds its new counts to the minute rows and reads back the totals (which include other processes' counts), so
 * every process routes by the same numbers and a restart loses at most one interval. Rows older than a day are
 * pruned now and then. Statistics are best effort: a failed flush is logged, and its counts stay in this process's
 * memory without being stored.
 */
export async function startChannelStatsPersistence(options: {
  db: Database;
  stats: ChannelStats;
  logger: Logger;
  clock: () => number;
  intervalMs: number;
}): Promise<ChannelStatsPersistence> {
  const { db, stats, logger, clock } = options;
  let readAfter: number | undefined;
  let lastPrune = 0;

  async function readBack(): Promise<void> {
    const { rows, newestUpdate } = await readChannelStatRows(
      db,
      clock(),
      readAfter === undefined ? {} : { updatedAfter: readAfter },
    );
    stats.applyPersisted(rows);
    if (newestUpdate !== null) readAfter = newestUpdate - REREAD_OVERLAP_MS;
  }

  // One flush at a time; a flush asked for while one runs follows it, so it covers everything recorded before it.
  let queue: Promise<void> = Promise.resolve();
  async function flushOnce(): Promise<void> {
    try {
      await addChannelStatDeltas(db, stats.takeUnflushed());
      await readBack();
      if (clock() - lastPrune > 60 * MINUTE_MS) {
        lastPrune = clock();
        await db
          .delete(channelStatMinutes)
          .where(lt(channelStatMinutes.minute, new Date(clock() - DAY_MS - MINUTE_MS)));
      }
    } catch (error) {
      logger.warn("persisting channel statistics failed", { error });
    }
  }
  const flush = () => (queue = queue.then(flushOnce));

  try {
    await readBack();
  } catch (error) {
    logger.warn("loading channel statistics failed", { error });
  }
  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();
  return {
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
