import { and, desc, eq, gte, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { apiKeys, generations, type ApiKeyPurpose, type GenerationAttempt } from "~/server/db/schema";
import { formatNanoAsUsd, nanoToUsdNumber } from "~/server/gateway/billing/money";
import { PLAYGROUND_KEY_NAME } from "./playground-key";
import { ServiceError } from "./service-error";

/*
 * What a customer's activity page and exports read. Totals, charts and breakdowns come from `usage_hourly` (the
 * generation log summed per account, key, model, provider and UTC hour, written with the usage), so they never scan
 * the log; the request log pages through `generations` along its (user_id, created_at) index.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The longest custom range: a year of days. */
const MAX_RANGE_DAYS = 366;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const ACTIVITY_RANGES = ["24h", "7d", "30d", "custom"] as const;
export const ACTIVITY_GROUPS = ["model", "key", "provider"] as const;
export type ActivityGroup = (typeof ACTIVITY_GROUPS)[number];

const dateSchema = z.string().regex(DATE, "A day written YYYY-MM-DD");

/** Which calls: a time window and, optionally, one model, key or provider. */
export const activityFilterSchema = z.object({
  range: z.enum(ACTIVITY_RANGES).default("24h"),
  /** First and last UTC day of a custom range, inclusive. */
  from: dateSchema.nullish(),
  to: dateSchema.nullish(),
  modelId: z.string().trim().min(1).max(200).nullish(),
  apiKeyId: z.uuid().nullish(),
  provider: z.string().trim().min(1).max(100).nullish(),
});
export type ActivityFilter = z.input<typeof activityFilterSchema>;

/** The request log's filters: the activity filter plus what only the log knows. */
export const requestLogFilterSchema = activityFilterSchema.extend({
  status: z.enum(["success", "error"]).nullish(),
  streamed: z.boolean().nullish(),
  /** A generation id (`gen-…`), as support is quoted. */
  requestId: z.string().trim().min(1).max(200).nullish(),
});
export type RequestLogFilter = z.input<typeof requestLogFilterSchema>;

export class ActivityInputError extends ServiceError {
  constructor(message: string) {
    super("invalid_input", message);
    this.name = "ActivityInputError";
  }
}

export interface ActivityWindow {
  from: Date;
  to: Date;
  bucket: "hour" | "day";
}

/**
 * The window a filter means at `now`: the last 24 hours by hour (from the start of the hour 23 hours ago), the last 7
 * or 30 UTC days by day (today included), or a custom range of whole UTC days, by hour when it spans two days or fewer.
 */
export function activityWindow(filter: ActivityFilter, now: Date): ActivityWindow {
  const parsed = activityFilterSchema.parse(filter);
  const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  switch (parsed.range) {
    case "24h":
      return { from: new Date(hour - 23 * HOUR_MS), to: new Date(hour + HOUR_MS), bucket: "hour" };
    case "7d":
      return { from: new Date(today - 6 * DAY_MS), to: new Date(today + DAY_MS), bucket: "day" };
    case "30d":
      return { from: new Date(today - 29 * DAY_MS), to: new Date(today + DAY_MS), bucket: "day" };
    case "custom": {
      if (parsed.from == null || parsed.to == null)
        throw new ActivityInputError("A custom range needs a first and a last day");
      const from = Date.parse(`${parsed.from}T00:00:00Z`);
      const last = Date.parse(`${parsed.to}T00:00:00Z`);
      if (Number.isNaN(from) || Number.isNaN(last)) throw new ActivityInputError("Not a day");
      if (last < from) throw new ActivityInputError("The last day comes before the first");
      const days = (last - from) / DAY_MS + 1;
      if (days > MAX_RANGE_DAYS) throw new ActivityInputError(`A range covers at most ${MAX_RANGE_DAYS} days`);
      return { from: new Date(from), to: new Date(last + DAY_MS), bucket: days <= 2 ? "hour" : "day" };
    }
  }
}

/** The rollup's rows of one account in a window, narrowed by the filter. */
function rollupWhere(userId: string, filter: z.output<typeof activityFilterSchema>, window: ActivityWindow): SQL {
  return sql`user_id = ${userId} and hour >= ${window.from.toISOString()}::timestamptz
    and hour < ${window.to.toISOString()}::timestamptz
    ${filter.modelId == null ? sql`` : sql`and model_id = ${filter.modelId}`}
    ${filter.apiKeyId == null ? sql`` : sql`and api_key_id = ${filter.apiKeyId}::uuid`}
    ${filter.provider == null ? sql`` : sql`and provider = ${filter.provider}`}`;
}

/** How a key is named on the page and in exports: its name and display prefix, "laptop (sk-gw-1a2b3c4d…)". */
export function keyLabelOf(name: string, prefix: string, purpose: ApiKeyPurpose = "api"): string {
  // The playground key's prefix means nothing to its owner, who never saw the key.
  if (purpose === "playground") return PLAYGROUND_KEY_NAME;
  return `${name} (${prefix}…)`;
}

/** Every key of the account (revoked and playground ones too), newest first, with its label. */
export async function accountKeyLabels(db: Database, userId: string): Promise<{ id: string; label: string }[]> {
  const keys = await db
    .select({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, purpose: apiKeys.purpose })
    .from(apiKeys)
    .where(eq(apiKeys.userId, userId))
    .orderBy(desc(apiKeys.createdAt));
  return keys.map((key) => ({ id: key.id, label: keyLabelOf(key.name, key.prefix, key.purpose) }));
}

export interface ActivityTotals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  /** Exact USD decimal. */
  spendUsd: string;
  /** Exact USD decimal, rounded down to the nano-dollar; null without requests. */
  averageCostUsd: string | null;
  averageLatencyMs: number | null;
  averageFirstTokenMs: number | null;
}

export interface ActivityBreakdownRow {
  /** The model id, the key id (null: calls without a key) or the provider slug. */
  id: string | null;
  label: string;
  requests: number;
  tokens: number;
  spendUsd: string;
  /** For charts: the nearest double. */
  spend: number;
}

export interface ActivitySummary {
  window: { from: string; to: string; bucket: "hour" | "day" };
  totals: ActivityTotals;
  /** One point per bucket of the window (empty ones included), spend per group of the chosen grouping. */
  series: { at: string; spend: Record<string, number>; requests: number; tokens: number }[];
  /** The groups of the series, by spend, with their labels (a key's name, a model's id). */
  groups: { id: string; label: string }[];
  byModel: ActivityBreakdownRow[];
  byKey: ActivityBreakdownRow[];
}

/** The most groups a chart stacks; the rest are summed as "Other". */
const MAX_GROUPS = 8;
const OTHER = "other";

interface GroupRow {
  group: string | null;
  requests: string;
  tokens: string;
  cost: string;
}

/** Totals, the chart's series and the breakdowns by model and by key, for one account and filter. */
export async function summarizeActivity(
  db: Database,
  userId: string,
  input: ActivityFilter & { groupBy?: ActivityGroup },
  now: Date,
): Promise<ActivitySummary> {
  const filter = activityFilterSchema.parse(input);
  const groupBy = input.groupBy ?? "model";
  const window = activityWindow(filter, now);
  const where = rollupWhere(userId, filter, window);
  const groupColumn = sql.raw(groupBy === "model" ? "model_id" : groupBy === "key" ? "api_key_id::text" : "provider");
  const bucket = sql.raw(`'${window.bucket}'`);

  const [totalsRows, seriesRows, modelRows, keyRows, keyNames] = await Promise.all([
    db.execute(sql`
      select coalesce(sum(requests), 0)::text as requests, coalesce(sum(errors), 0)::text as errors,
        coalesce(sum(prompt_tokens), 0)::text as prompt, coalesce(sum(completion_tokens), 0)::text as completion,
        coalesce(sum(reasoning_tokens), 0)::text as reasoning, coalesce(sum(cached_tokens), 0)::text as cached,
        coalesce(sum(cost_nano), 0)::text as cost, coalesce(sum(latency_ms_sum), 0)::text as latency,
        coalesce(sum(first_token_ms_sum), 0)::text as first_token, coalesce(sum(first_token_count), 0)::text as first_tokens
      from usage_hourly where ${where}`),
    db.execute(sql`
      select date_trunc(${bucket}, hour, 'UTC') as at, ${groupColumn} as "group",
        sum(requests)::text as requests, sum(prompt_tokens + completion_tokens)::text as tokens,
        sum(cost_nano)::text as cost
      from usage_hourly where ${where} group by 1, 2 order by 1`),
    db.execute(sql`
      select model_id as "group", sum(requests)::text as requests,
        sum(prompt_tokens + completion_tokens)::text as tokens, sum(cost_nano)::text as cost
      from usage_hourly where ${where} group by 1 order by sum(cost_nano) desc, 1`),
    db.execute(sql`
      select api_key_id::text as "group", sum(requests)::text as requests,
        sum(prompt_tokens + completion_tokens)::text as tokens, sum(cost_nano)::text as cost
      from usage_hourly where ${where} group by 1 order by sum(cost_nano) desc, 1`),
    accountKeyLabels(db, userId),
  ]);

  const keyLabel = new Map(keyNames.map((key) => [key.id, key.label]));
  const labelOf = (grouping: ActivityGroup, id: string | null) =>
    grouping === "key" ? (id === null ? "No key" : (keyLabel.get(id) ?? id)) : (id ?? "—");
  const breakdown = (grouping: ActivityGroup, rows: GroupRow[]): ActivityBreakdownRow[] =>
    rows.map((row) => ({
      id: row.group,
      label: labelOf(grouping, row.group),
      requests: Number(row.requests),
      tokens: Number(row.tokens),
      spendUsd: formatNanoAsUsd(BigInt(row.cost)),
      spend: nanoToUsdNumber(BigInt(row.cost)),
    }));

  const [totals] = rowsOf<Record<string, string>>(totalsRows);
  const count = (name: string) => Number(totals?.[name] ?? "0");
  const requests = count("requests");
  const costNano = BigInt(totals?.cost ?? "0");
  const firstTokens = count("first_tokens");

  // The series' groups: the dearest MAX_GROUPS of the window, the rest summed as "Other".
  const seriesData = rowsOf<GroupRow & { at: string | Date }>(seriesRows);
  const spendByGroup = new Map<string, bigint>();
  for (const row of seriesData) {
    const id = row.group ?? "";
    spendByGroup.set(id, (spendByGroup.get(id) ?? 0n) + BigInt(row.cost));
  }
  const ranked = [...spendByGroup.entries()].sort((a, b) =>
    b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1,
  );
  const shown = new Set(ranked.slice(0, MAX_GROUPS).map(([id]) => id));
  const groups = ranked.slice(0, MAX_GROUPS).map(([id]) => ({ id, label: labelOf(groupBy, id === "" ? null : id) }));
  if (ranked.length > MAX_GROUPS) groups.push({ id: OTHER, label: "Other" });

  const step = window.bucket === "hour" ? HOUR_MS : DAY_MS;
  const points = new Map<number, ActivitySummary["series"][number]>();
  for (let at = window.from.getTime(); at < window.to.getTime(); at += step) {
    points.set(at, { at: new Date(at).toISOString(), spend: {}, requests: 0, tokens: 0 });
  }
  for (const row of seriesData) {
    const point = points.get(new Date(row.at).getTime());
    if (point === undefined) continue;
    const id = row.group ?? "";
    const group = shown.has(id) ? id : OTHER;
    point.spend[group] = (point.spend[group] ?? 0) + nanoToUsdNumber(BigInt(row.cost));
    point.requests += Number(row.requests);
    point.tokens += Number(row.tokens);
  }

  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString(), bucket: window.bucket },
    totals: {
      requests,
      errors: count("errors"),
      promptTokens: count("prompt"),
      completionTokens: count("completion"),
      reasoningTokens: count("reasoning"),
      cachedTokens: count("cached"),
      spendUsd: formatNanoAsUsd(costNano),
      averageCostUsd: requests === 0 ? null : formatNanoAsUsd(costNano / BigInt(requests)),
      averageLatencyMs: requests === 0 ? null : Math.round(count("latency") / requests),
      averageFirstTokenMs: firstTokens === 0 ? null : Math.round(count("first_token") / firstTokens),
    },
    series: [...points.values()],
    groups,
    byModel: breakdown("model", rowsOf<GroupRow>(modelRows)),
    byKey: breakdown("key", rowsOf<GroupRow>(keyRows)),
  };
}

/** A request log page's position: the last row's start time and id (newest first, ties by id). */
export const logCursorSchema = z.object({ createdAt: z.date(), id: z.string() });
export type LogCursor = z.infer<typeof logCursorSchema>;

export interface RequestLogRow {
  id: string;
  /** The call's `x-request-id` (the client's, or ours); null for calls made before it was stored. */
  requestId: string | null;
  createdAt: Date;
  modelId: string;
  provider: string;
  apiKeyId: string | null;
  keyLabel: string | null;
  /** Made from the dashboard's playground rather than with one of the customer's keys. */
  playground: boolean;
  streamed: boolean;
  cancelled: boolean;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: string;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  finishReason: string | null;
  httpStatus: number;
  errorType: string | null;
}

/** The filter picks calls by what the rollup counts them by (model, key, provider, success or failure). */
function narrowsByRollup(filter: z.output<typeof requestLogFilterSchema>): boolean {
  return filter.modelId != null || filter.apiKeyId != null || filter.provider != null || filter.status != null;
}

/** What the rollup counts of a log filter's matches: every call, its failures, or its successes. */
function rollupMatches(filter: z.output<typeof requestLogFilterSchema>): SQL {
  return filter.status === "error" ? sql`errors` : filter.status === "success" ? sql`requests - errors` : sql`requests`;
}

/**
 * Where a filtered log page's scan may stop: the start of the oldest hour it needs, found in the hourly rollup. The log
 * is read along its (user_id, created_at) index, newest first; a filter that matches few rows (one model's failures,
 * a key used once) would otherwise walk the whole window to fill a page, or to find nothing. The rollup counts each
 * hour's matching calls for the filters it knows (model, key, provider, success or failure), so the scan can start
 * where enough of them lie: the newest full hours below the cursor's hour holding at least `needed` of them (the
 * cursor's own hour counts for nothing, since part of it was read already). `null` when no hour holds a match.
 */
async function logScanStart(
  db: Database,
  userId: string,
  filter: z.output<typeof requestLogFilterSchema>,
  window: ActivityWindow,
  cursor: LogCursor | null,
  needed: number,
): Promise<Date | null> {
  const counted = rollupMatches(filter);
  const cursorHour = cursor === null ? null : Math.floor(cursor.createdAt.getTime() / HOUR_MS) * HOUR_MS;
  const upper = cursorHour === null ? window.to : new Date(Math.min(window.to.getTime(), cursorHour + HOUR_MS));
  const hours = rowsOf<{ hour: string | Date; matches: string }>(
    await db.execute(sql`
      select hour, sum(${counted})::text as matches from usage_hourly
      where ${rollupWhere(userId, filter, { ...window, to: upper })}
      group by hour having sum(${counted}) > 0 order by hour desc`),
  );
  let found = 0;
  let oldest: Date | null = null;
  for (const row of hours) {
    oldest = new Date(row.hour);
    if (oldest.getTime() !== cursorHour) found += Number(row.matches);
    if (found >= needed) break;
  }
  return oldest;
}

function requestLogWhere(
  userId: string,
  filter: z.output<typeof requestLogFilterSchema>,
  window: ActivityWindow,
  cursor: LogCursor | null,
): SQL {
  const conditions: (SQL | undefined)[] = [
    eq(generations.userId, userId),
    gte(generations.createdAt, window.from),
    lt(generations.createdAt, window.to),
    filter.modelId == null ? undefined : eq(generations.modelId, filter.modelId),
    filter.apiKeyId == null ? undefined : eq(generations.apiKeyId, filter.apiKeyId),
    filter.provider == null ? undefined : eq(generations.provider, filter.provider),
    filter.status == null
      ? undefined
      : filter.status === "success"
        ? lt(generations.httpStatus, 400)
        : gte(generations.httpStatus, 400),
    filter.streamed == null ? undefined : eq(generations.streamed, filter.streamed),
    // What a customer quotes: the request id (`x-request-id`) or the generation id.
    filter.requestId == null
      ? undefined
      : or(eq(generations.requestId, filter.requestId), eq(generations.id, filter.requestId)),
    // The plain bound lets the index scan start at the cursor; the OR alone would walk down to it from the top.
    cursor === null ? undefined : lte(generations.createdAt, cursor.createdAt),
    cursor === null
      ? undefined
      : or(
          lt(generations.createdAt, cursor.createdAt),
          and(eq(generations.createdAt, cursor.createdAt), lt(generations.id, cursor.id)),
        ),
  ];
  return and(...conditions)!;
}

/** A generation as the request log shows it; its key as "name (prefix…)". */
function requestLogRow(
  generation: typeof generations.$inferSelect,
  /** Null when the call was made with no key (or its key row is gone). */
  key: { name: string; prefix: string; purpose: ApiKeyPurpose } | null,
): RequestLogRow {
  return {
    id: generation.id,
    requestId: generation.requestId,
    createdAt: generation.createdAt,
    modelId: generation.modelId,
    provider: generation.provider,
    apiKeyId: generation.apiKeyId,
    keyLabel: key === null ? null : keyLabelOf(key.name, key.prefix, key.purpose),
    playground: key?.purpose === "playground",
    streamed: generation.streamed,
    cancelled: generation.cancelled,
    promptTokens: generation.promptTokens,
    completionTokens: generation.completionTokens,
    cachedTokens: generation.cachedTokens,
    reasoningTokens: generation.reasoningTokens,
    costUsd: formatNanoAsUsd(generation.costNano),
    latencyMs: generation.latencyMs,
    timeToFirstTokenMs: generation.timeToFirstTokenMs,
    finishReason: generation.finishReason,
    httpStatus: generation.httpStatus,
    errorType: generation.errorType,
  };
}

/**
 * The condition on `generations` for the next `needed` rows of the account's log matching the filter, below the
 * cursor; null when nothing matches (the rollup says so without touching the log). A filter the rollup knows
 * narrows the scan to the hours that hold the rows (logScanStart).
 */
async function requestLogScan(
  db: Database,
  userId: string,
  input: RequestLogFilter,
  now: Date,
  cursor: LogCursor | null,
  needed: number,
): Promise<SQL | null> {
  const filter = requestLogFilterSchema.parse(input);
  const window = activityWindow(filter, now);
  const narrows = narrowsByRollup(filter);
  if (narrows && filter.requestId == null) {
    const start = await logScanStart(db, userId, filter, window, cursor, needed);
    if (start === null) return null;
    window.from = new Date(Math.max(window.from.getTime(), start.getTime()));
  }
  return requestLogWhere(userId, filter, window, cursor);
}

/** A stretch of the log read on its own, newest first: `where` selects its rows below a cursor. */
export interface LogSlice {
  where(cursor: LogCursor | null): SQL;
}

/**
 * The filter's window cut into contiguous stretches of whole hours, newest first, each holding about `rowsPerSlice`
 * matching rows by the rollup's count (an hour holding more is a stretch of its own), so that an export can read
 * several at once. The rollup only sizes the slices: together they cover the whole window, hours it has no row for
 * included, so every matching generation is read even where the rollup were behind. A filter the rollup knows (model,
 * key, provider, status) ends the last slice at the oldest hour holding a match, as a log page's scan does
 * (logScanStart), and matches nothing when no hour does.
 */
export async function requestLogSlices(
  db: Database,
  userId: string,
  input: RequestLogFilter,
  now: Date,
  rowsPerSlice: number,
): Promise<LogSlice[]> {
  const filter = requestLogFilterSchema.parse(input);
  const window = activityWindow(filter, now);
  const slice = (from: Date, to: Date): LogSlice => ({
    where: (cursor) => requestLogWhere(userId, filter, { ...window, from, to }, cursor),
  });
  if (filter.requestId != null) return [slice(window.from, window.to)];
  const hours = rowsOf<{ epoch: number; matches: number }>(
    await db.execute(sql`
      select extract(epoch from hour)::float8 as epoch, sum(${rollupMatches(filter)})::float8 as matches
      from usage_hourly where ${rollupWhere(userId, filter, window)}
      group by hour having sum(${rollupMatches(filter)}) > 0 order by hour desc`),
  );
  const narrows = narrowsByRollup(filter);
  if (narrows && hours.length === 0) return [];
  const slices: LogSlice[] = [];
  let sliceEnd = window.to;
  let inSlice = 0;
  for (const { epoch, matches } of hours) {
    // The hour's end is below the slice's end: only hours newer than this one were counted into it.
    const hourEnd = new Date(Number(epoch) * 1000 + HOUR_MS);
    if (inSlice > 0 && inSlice + Number(matches) > rowsPerSlice) {
      slices.push(slice(hourEnd, sliceEnd));
      sliceEnd = hourEnd;
      inSlice = 0;
    }
    inSlice += Number(matches);
  }
  const oldestMatch = narrows ? new Date(Number(hours.at(-1)!.epoch) * 1000) : window.from;
  slices.push(slice(oldestMatch > window.from ? oldestMatch : window.from, sliceEnd));
  return slices;
}

/** One page of the account's generations matching the filter, newest first. */
export async function listRequestLog(
  db: Database,
  userId: string,
  input: RequestLogFilter,
  page: { cursor: LogCursor | null; limit: number },
  now: Date,
): Promise<{ items: RequestLogRow[]; nextCursor: LogCursor | null }> {
  const where = await requestLogScan(db, userId, input, now, page.cursor, page.limit + 1);
  if (where === null) return { items: [], nextCursor: null };
  const rows = await db
    .select({
      generation: generations,
      key: { name: apiKeys.name, prefix: apiKeys.prefix, purpose: apiKeys.purpose },
    })
    .from(generations)
    .leftJoin(apiKeys, eq(apiKeys.id, generations.apiKeyId))
    .where(where)
    .orderBy(desc(generations.createdAt), desc(generations.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit).map(({ generation, key }) => requestLogRow(generation, key));
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > page.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null,
  };
}

export interface GenerationDetail extends RequestLogRow {
  upstreamModel: string;
  upstreamId: string | null;
  billingStatus: string;
  cacheWriteTokens: number;
  attempts: GenerationAttempt[];
}

/** One of the account's generations with its upstream attempts; null for another account's or an unknown id. */
export async function findGenerationDetail(db: Database, userId: string, id: string): Promise<GenerationDetail | null> {
  const [row] = await db
    .select({
      generation: generations,
      key: { name: apiKeys.name, prefix: apiKeys.prefix, purpose: apiKeys.purpose },
    })
    .from(generations)
    .leftJoin(apiKeys, eq(apiKeys.id, generations.apiKeyId))
    .where(and(eq(generations.id, id), eq(generations.userId, userId)))
    .limit(1);
  if (row === undefined) return null;
  const { generation } = row;
  return {
    ...requestLogRow(generation, row.key),
    cacheWriteTokens: generation.cacheWriteTokens,
    upstreamModel: generation.upstreamModel,
    upstreamId: generation.upstreamId,
    billingStatus: generation.billingStatus,
    // A call that did not fail over made one attempt: its own channel, status and latency.
    attempts: generation.attempts ?? [
      {
        channelId: generation.channelId ?? "",
        channelName: generation.provider,
        provider: generation.provider,
        upstreamModel: generation.upstreamModel,
        status: generation.httpStatus,
        latencyMs: generation.latencyMs,
        errorType: generation.errorType,
      },
    ],
  };
}

/** What the filters can pick from: the account's keys, and the models and providers it used in the last year. */
export async function activityFilterOptions(
  db: Database,
  userId: string,
  now: Date,
): Promise<{ keys: { id: string; label: string }[]; models: string[]; providers: string[] }> {
  const since = new Date(now.getTime() - MAX_RANGE_DAYS * DAY_MS).toISOString();
  const [keys, used] = await Promise.all([
    accountKeyLabels(db, userId),
    db.execute(sql`
      select distinct model_id, provider from usage_hourly
      where user_id = ${userId} and hour >= ${since}::timestamptz`),
  ]);
  const rows = rowsOf<{ model_id: string; provider: string }>(used);
  return {
    keys,
    models: [...new Set(rows.map((row) => row.model_id))].sort(),
    providers: [...new Set(rows.map((row) => row.provider))].sort(),
  };
}

/** How many UTC days a key's sparkline covers, today included. */
export const SPARKLINE_DAYS = 14;

/**
 * Each of the account's keys' spend per UTC day over the last SPARKLINE_DAYS days (today last), from the rollup:
 * the keys page's sparklines. Keys without calls in that time are absent.
 */
export async function keySpendByDay(db: Database, userId: string, now: Date): Promise<Record<string, number[]>> {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const from = today - (SPARKLINE_DAYS - 1) * DAY_MS;
  const rows = rowsOf<{ key_id: string; day: Date | string; cost: string }>(
    await db.execute(sql`
      select api_key_id::text as key_id, date_trunc('day', hour, 'UTC') as day, sum(cost_nano)::text as cost
      from usage_hourly
      where user_id = ${userId} and api_key_id is not null and hour >= ${new Date(from).toISOString()}::timestamptz
      group by 1, 2`),
  );
  const byKey: Record<string, number[]> = {};
  for (const row of rows) {
    const index = Math.round((new Date(row.day).getTime() - from) / DAY_MS);
    if (index < 0 || index >= SPARKLINE_DAYS) continue;
    const days = (byKey[row.key_id] ??= Array.from({ length: SPARKLINE_DAYS }, () => 0));
    days[index] = nanoToUsdNumber(BigInt(row.cost));
  }
  return byKey;
}
