import { sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import {
  activityFilterSchema,
  activityWindow,
  listRequestLog,
  type ActivityFilter,
  type LogCursor,
  type RequestLogFilter,
} from "./activity";

/** Rows read from the database per page: a month of a busy account is never held in memory at once. */
export const EXPORT_PAGE_SIZE = 1_000;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that a spreadsheet would run as
 * a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe: key names are the
 * customer's own text.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (fields: (string | number | boolean | null)[]) => `${fields.map(csvField).join(",")}\r\n`;

export const REQUEST_LOG_COLUMNS = [
  "request_id",
  "created_at",
  "model",
  "provider",
  "key_id",
  "key",
  "streamed",
  "cancelled",
  "status",
  "error_type",
  "finish_reason",
  "prompt_tokens",
  "completion_tokens",
  "cached_tokens",
  "reasoning_tokens",
  "cost_usd",
  "latency_ms",
  "time_to_first_token_ms",
] as const;

/**
 * The request log matching the filters as CSV, newest first: a header row, then one line per generation, read a page
 * at a time along the log's index as the consumer pulls. Costs are exact USD decimals.
 */
export async function* requestLogCsv(
  db: Database,
  userId: string,
  filter: RequestLogFilter,
  now: Date,
): AsyncGenerator<string> {
  yield csvLine([...REQUEST_LOG_COLUMNS]);
  let cursor: LogCursor | null = null;
  do {
    const page = await listRequestLog(db, userId, filter, { cursor, limit: EXPORT_PAGE_SIZE }, now);
    let chunk = "";
    for (const row of page.items) {
      chunk += csvLine([
        row.id,
        row.createdAt.toISOString(),
        row.modelId,
        row.provider,
        row.apiKeyId,
        row.keyLabel,
        row.streamed,
        row.cancelled,
        row.httpStatus,
        row.errorType,
        row.finishReason,
        row.promptTokens,
        row.completionTokens,
        row.cachedTokens,
        row.reasoningTokens,
        row.costUsd,
        row.latencyMs,
        row.timeToFirstTokenMs,
      ]);
    }
    if (chunk !== "") yield chunk;
    cursor = page.nextCursor;
  } while (cursor !== null);
}

export const DAILY_COLUMNS = [
  "date",
  "model",
  "provider",
  "key_id",
  "requests",
  "errors",
  "prompt_tokens",
  "completion_tokens",
  "cached_tokens",
  "reasoning_tokens",
  "cost_usd",
] as const;

/**
 * The hourly rollup summed per UTC day, model, provider and key over the filter's window, oldest day first, as CSV.
 * At most a year of days times the account's models and keys: one query.
 */
export async function* dailyActivityCsv(
  db: Database,
  userId: string,
  input: ActivityFilter,
  now: Date,
): AsyncGenerator<string> {
  const filter = activityFilterSchema.parse(input);
  const window = activityWindow(filter, now);
  yield csvLine([...DAILY_COLUMNS]);
  const rows = rowsOf<Record<string, string | null>>(
    await db.execute(sql`
      select to_char(date_trunc('day', hour, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, model_id, provider,
        api_key_id::text as key_id, sum(requests)::text as requests, sum(errors)::text as errors,
        sum(prompt_tokens)::text as prompt, sum(completion_tokens)::text as completion,
        sum(cached_tokens)::text as cached, sum(reasoning_tokens)::text as reasoning, sum(cost_nano)::text as cost
      from usage_hourly
      where user_id = ${userId} and hour >= ${window.from.toISOString()}::timestamptz
        and hour < ${window.to.toISOString()}::timestamptz
        ${filter.modelId == null ? sql`` : sql`and model_id = ${filter.modelId}`}
        ${filter.apiKeyId == null ? sql`` : sql`and api_key_id = ${filter.apiKeyId}::uuid`}
        ${filter.provider == null ? sql`` : sql`and provider = ${filter.provider}`}
      group by 1, 2, 3, 4
      order by 1, 2, 3, 4`),
  );
  let chunk = "";
  for (const row of rows) {
    chunk += csvLine([
      row.day ?? "",
      row.model_id ?? "",
      row.provider ?? "",
      row.key_id ?? null,
      Number(row.requests),
      Number(row.errors),
      Number(row.prompt),
      Number(row.completion),
      Number(row.cached),
      Number(row.reasoning),
      formatNanoAsUsd(BigInt(row.cost ?? "0")),
    ]);
  }
  if (chunk !== "") yield chunk;
}
