import { sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseHandle } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import {
  activityFilterSchema,
  activityWindow,
  accountKeyLabels,
  requestLogSlices,
  type ActivityFilter,
  type LogCursor,
  type LogSlice,
  type RequestLogFilter,
} from "./activity";
import { readAhead } from "./read-ahead";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Rows read from the database per page: a month of a busy account is never held in memory at once. */
export const EXPORT_PAGE_SIZE = 2_500;
/**
 * Slices of the log read at once: on 2 cores (`npm run bench:activity`), three at a time read a day of a busy account
 * (33,000 rows) about a sixth faster than one at a time (two or four were not clearly better), and three pages are
 * all that is held.
 */
const EXPORT_READ_AHEAD = 3;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that a spreadsheet would run as
 * a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe: key names are the
 * customer's own text.
 */
function csvField(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (fields: (string | number | boolean | null)[]) => `${fields.map(csvField).join(",")}\r\n`;

export const REQUEST_LOG_COLUMNS = [
  "generation_id",
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
 * A text column as a CSV field, computed by the database: the same rule as csvField (a formula-looking text gets an
 * apostrophe, a text with a comma, quote or line break is quoted), so a page of lines costs the database a little and
 * the gateway next to nothing.
 */
function csvText(column: SQL): SQL {
  const defused = sql`(case when ${column} ~ '^[-=+@\t\r]' then '''' || ${column} else ${column} end)`;
  return sql`coalesce(case when ${defused} ~ '[",\r\n]' then '"' || replace(${defused}, '"', '""') || '"' else ${defused} end, '')`;
}

/**
 * One request log line (REQUEST_LOG_COLUMNS) with its line break, written by the database in one `concat`, which
 * writes each value in its text form and a null as nothing: the cheapest way for it to build a line (a third of the
 * cost of casting and joining each field).
 */
const REQUEST_LOG_LINE = sql`concat(${sql.join(
  [
    // Ids, model ids and provider slugs are the gateway's own words: no comma, quote or formula.
    sql`generations.id`,
    // The gateway keeps only request ids of [A-Za-z0-9._:-] (its own, or a client's that match), so no quoting; a
    // client's may start with `-`, which a spreadsheet could read as a formula.
    sql`(case when starts_with(generations.request_id, '-') then '''' || generations.request_id else generations.request_id end)`,
    sql`to_char(generations.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
    sql`generations.model_id`,
    sql`generations.provider`,
    sql`generations.api_key_id`,
    // keyLabelOf as a CSV field, made once per key in JavaScript and joined in (keyLabels below).
    sql`keys.label`,
    // Booleans as `true`/`false` (concat alone would write `t`/`f`).
    sql`generations.streamed::text`,
    sql`generations.cancelled::text`,
    sql`generations.http_status`,
    csvText(sql`generations.error_type`),
    // Normalised finish reasons: stop, length, tool_calls, content_filter, error.
    sql`generations.finish_reason`,
    sql`generations.prompt_tokens`,
    sql`generations.completion_tokens`,
    sql`generations.cached_tokens`,
    sql`generations.reasoning_tokens`,
    // Exact: nano-USD as a decimal with no trailing zeros, as formatNanoAsUsd writes it.
    sql`trim_scale(generations.cost_nano::numeric / 1000000000)`,
    sql`generations.latency_ms`,
    sql`generations.time_to_first_token_ms`,
  ],
  sql`, ',', `,
)}, E'\r\n')`;

/** What the request log export reads with: queries, and lines passed on as the bytes the database wrote. */
export type ExportDatabase = Pick<DatabaseHandle, "db" | "textRows">;

/**
 * The request log matching the filters as CSV (UTF-8), newest first: a header row, then one line per generation.
 * Costs are exact USD decimals. The log is cut into slices of about a page each (requestLogSlices) and
 * EXPORT_READ_AHEAD of them are read at once, each a page at a time along the log's index as the consumer pulls: the
 * database builds the next slices' lines on other connections while this one is sent. The lines go out as the bytes
 * the database sent: decoding them into strings and encoding them again cost more than writing them (measured on a
 * day of 33,000 lines, `npm run bench:activity`).
 */
export async function* requestLogCsv(
  database: ExportDatabase,
  userId: string,
  filter: RequestLogFilter,
  now: Date,
): AsyncGenerator<Uint8Array> {
  yield utf8.encode(csvLine([...REQUEST_LOG_COLUMNS]));
  const [slices, keys] = await Promise.all([
    requestLogSlices(database.db, userId, filter, now, EXPORT_PAGE_SIZE),
    keyLabels(database.db, userId),
  ]);
  yield* readAhead(
    slices.map((slice) => () => sliceCsv(database, keys, slice)),
    EXPORT_READ_AHEAD,
  );
}

/**
 * The account's keys as a relation of (id, label), labels written as CSV fields, to join the log to. Labels are made
 * here rather than by the database per line: a few keys, but thousands of lines per page.
 */
async function keyLabels(db: Database, userId: string): Promise<SQL> {
  const keys = await accountKeyLabels(db, userId);
  // Two array parameters, not one per key: the statement's text is the same for every account, prepared once.
  const ids = sql.param(keys.map((key) => key.id));
  const labels = sql.param(keys.map((key) => csvField(key.label)));
  return sql`unnest(${ids}::uuid[], ${labels}::text[]) as keys(id, label)`;
}

/** One slice of the log as CSV lines, a page of at most EXPORT_PAGE_SIZE lines at a time. */
async function* sliceCsv(database: ExportDatabase, keys: SQL, slice: LogSlice): AsyncGenerator<Uint8Array> {
  let cursor: LogCursor | null = null;
  for (;;) {
    // The page size is written into the statement rather than bound: the plan PostgreSQL keeps for a prepared
    // statement then knows how few rows a page takes.
    const lines = await database.textRows(sql`
      select ${REQUEST_LOG_LINE}
      from generations left join ${keys} on keys.id = generations.api_key_id
      where ${slice.where(cursor)}
      order by generations.created_at desc, generations.id desc
      limit ${sql.raw(String(EXPORT_PAGE_SIZE))}`);
    if (lines.length === 0) return;
    yield Buffer.concat(lines);
    if (lines.length < EXPORT_PAGE_SIZE) return;
    // The page's position is read off its last line (id, request id, ISO time). A request id never holds a comma (the
    // gateway keeps only [A-Za-z0-9._:-] ids), so the fields split cleanly.
    const [id = "", , createdAt = ""] = utf8Decoder.decode(lines.at(-1)).split(",", 3);
    cursor = { createdAt: new Date(createdAt), id };
  }
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
): AsyncGenerator<Uint8Array> {
  const filter = activityFilterSchema.parse(input);
  const window = activityWindow(filter, now);
  yield utf8.encode(csvLine([...DAILY_COLUMNS]));
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
  if (chunk !== "") yield utf8.encode(chunk);
}
