/**
 * `npm run bench:activity`: the activity page's queries on one account with 1,000,000 generations over 30 days, on
 * a fresh PostgreSQL database (DATABASE_URL names the server; the database is created and dropped here). Seeds the
 * log with generate_series, fills the hourly rollup with its migration's backfill, then times each query the page
 * and its export make: totals and chart (24 hours, 30 days), the first log page, a filtered log page, and the CSV of
 * one day, read as the bytes the download sends. Prints the median and the slowest of several runs of each. Target:
 * each under 100 ms. For scale, it also times PostgreSQL's own COPY of that day's rows in the same run.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { readEnv } from "~/env";
import { openDatabase } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { migrate } from "~/server/db/migrate";
import { dailyActivityCsv, requestLogCsv } from "~/server/services/activity-export";
import { listRequestLog, summarizeActivity } from "~/server/services/activity";
import { createBenchDatabase } from "./bench-database";
import { installCleanupHandlers, onCleanup, runCleanup } from "./cleanup";

const MIGRATIONS = path.resolve(process.cwd(), "drizzle");
const DAY_MS = 86_400_000;

async function timed(runs: number, work: () => Promise<unknown>): Promise<{ medianMs: number; maxMs: number }> {
  await work();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, maxMs: times.at(-1)! };
}

/** Reads an export to its end, as the HTTP response sends it (bytes). */
async function drain(pieces: AsyncGenerator<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const piece of pieces) bytes += piece.byteLength;
  return bytes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: "string", default: "1000000" }, runs: { type: "string", default: "7" } },
  });
  const rows = Number(values.rows);
  const runs = Number(values.runs);
  const serverUrl = readEnv().DATABASE_URL;
  if (serverUrl === undefined) throw new Error("Set DATABASE_URL to a PostgreSQL server (a database is created there)");
  installCleanupHandlers();
  const { url, name } = await createBenchDatabase(serverUrl);
  const handle = openDatabase({ kind: "postgres", url });
  onCleanup("close the bench database", () => handle.close());
  await migrate(handle, MIGRATIONS);
  const { db } = handle;

  const userId = "bench-activity-user";
  const now = new Date();
  const keyIds = [
    "0a0a0a0a-0000-4000-8000-000000000001",
    "0a0a0a0a-0000-4000-8000-000000000002",
    "0a0a0a0a-0000-4000-8000-000000000003",
  ];
  process.stdout.write(`Seeding ${rows.toLocaleString("en-US")} generations over 30 days into ${name}…\n`);
  const seedStarted = performance.now();
  await db.execute(
    sql`insert into users (id, email, name, role) values (${userId}, 'bench-activity@example.com', 'Bench', 'user')`,
  );
  for (const [index, id] of keyIds.entries()) {
    await db.execute(sql`
      insert into api_keys (id, user_id, name, prefix, hash)
      values (${id}::uuid, ${userId}, ${`key ${index + 1}`}, ${`sk-gw-bench000${index}`}, ${`bench-hash-${index}`})`);
  }
  // Spread evenly over the last 30 days: five models on two providers, three keys, 2% failed, a third streamed.
  await db.execute(sql`
    insert into generations (id, user_id, api_key_id, model_id, channel_id, provider, upstream_model, streamed,
      http_status, error_type, prompt_tokens, completion_tokens, reasoning_tokens, billing_status, cost_nano,
      latency_ms, time_to_first_token_ms, created_at)
    select 'gen-bench-' || n, ${userId},
      (array[${keyIds[0]}, ${keyIds[1]}, ${keyIds[2]}])[1 + n % 3]::uuid,
      (array['openai/gpt-4.1-nano', 'openai/gpt-4.1-mini', 'openai/gpt-4o', 'anthropic/claude-haiku-4.5',
        'anthropic/claude-sonnet-4.5'])[1 + n % 5],
      null, case when n % 5 < 3 then 'openai' else 'anthropic' end, 'upstream', n % 3 = 0,
      case when n % 50 = 0 then 502 else 200 end, case when n % 50 = 0 then 'upstream_error' end,
      20 + n % 100, 10 + n % 50, n % 7, case when n % 50 = 0 then 'void' else 'exact' end::billing_status,
      case when n % 50 = 0 then 0 else 1000 + n % 5000 end, 200 + n % 800, case when n % 3 = 0 then 50 + n % 300 end,
      date_trunc('milliseconds', ${now.toISOString()}::timestamptz - (n::double precision / ${rows} * interval '30 days'))
    from generate_series(1, ${rows}) as n`);
  const backfill = readFileSync(path.join(MIGRATIONS, "0010_usage_hourly.sql"), "utf8")
    .split("--> statement-breakpoint")
    .at(-1)!;
  await db.execute(sql`delete from usage_hourly where true`);
  await db.execute(sql.raw(backfill));
  await db.execute(sql`analyze`);
  process.stdout.write(`Seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n\n`);

  const dayAgo = new Date(now.getTime() - 10 * DAY_MS).toISOString().slice(0, 10);
  const measurements: [string, () => Promise<unknown>][] = [
    ["totals + chart + breakdowns, last 24 h by hour", () => summarizeActivity(db, userId, { range: "24h" }, now)],
    [
      "totals + chart + breakdowns, last 30 d by day",
      () => summarizeActivity(db, userId, { range: "30d", groupBy: "key" }, now),
    ],
    [
      "first request log page (50 rows), 30 d",
      () => listRequestLog(db, userId, { range: "30d" }, { cursor: null, limit: 50 }, now),
    ],
    [
      "filtered log page matching nothing: one model's failures, 30 d",
      () =>
        listRequestLog(
          db,
          userId,
          { range: "30d", modelId: "openai/gpt-4o", status: "error" },
          { cursor: null, limit: 50 },
          now,
        ),
    ],
    [
      "filtered log page: one model, failed only (2% of calls), 30 d",
      () =>
        listRequestLog(
          db,
          userId,
          { range: "30d", modelId: "openai/gpt-4.1-nano", status: "error" },
          { cursor: null, limit: 50 },
          now,
        ),
    ],
    [
      "filtered log page: one key, streamed only, 30 d",
      () =>
        listRequestLog(
          db,
          userId,
          { range: "30d", apiKeyId: keyIds[1]!, streamed: true },
          { cursor: null, limit: 50 },
          now,
        ),
    ],
    [
      `CSV of one day's requests (${dayAgo})`,
      () => drain(requestLogCsv(handle, userId, { range: "custom", from: dayAgo, to: dayAgo }, now)),
    ],
    ["CSV of 30 days' daily totals", () => drain(dailyActivityCsv(db, userId, { range: "30d" }, now))],
  ];
  // For scale, in the same run: PostgreSQL writing the same day's rows as CSV by itself (COPY, one connection), with
  // nothing of Tollgate in between. Machines differ by 2-3x; the ratio to this does not.
  const copyClient = postgres(url, { max: 1, onnotice: () => {} });
  onCleanup("close the COPY connection", () => copyClient.end({ timeout: 5 }));
  const copyDay = async () => {
    const stream = await copyClient
      .unsafe(
        `copy (select * from generations where user_id = '${userId}' and created_at >= '${dayAgo}'::date
          and created_at < '${dayAgo}'::date + 1 order by created_at desc, id desc) to stdout with (format csv, header)`,
      )
      .readable();
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).byteLength;
    return bytes;
  };
  const results: string[] = [];
  for (const [label, work] of measurements) {
    const { medianMs, maxMs } = await timed(runs, work);
    results.push(`| ${label} | ${medianMs.toFixed(1)} | ${maxMs.toFixed(1)} | ${medianMs < 100 ? "PASS" : "MISS"} |`);
  }
  const copy = await timed(runs, copyDay);
  results.push(
    `| for scale: PostgreSQL's own COPY of the same day's rows as CSV | ${copy.medianMs.toFixed(1)} | ${copy.maxMs.toFixed(1)} | – |`,
  );
  const [day] = rowsOf<{ day_rows: string }>(
    await db.execute(sql`
      select count(*)::text as day_rows from generations
      where created_at >= ${dayAgo}::date and created_at < ${dayAgo}::date + 1`),
  );
  const dayRows = day?.day_rows ?? "0";
  process.stdout.write(
    `Activity queries on ${rows.toLocaleString("en-US")} generations (one account; ${Number(dayRows).toLocaleString("en-US")} in the exported day), ${runs} runs each after a warm-up:\n\n` +
      "| query | median ms | slowest ms | target < 100 ms |\n|---|---:|---:|---|\n" +
      `${results.join("\n")}\n`,
  );
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `bench:activity failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => runCleanup());
