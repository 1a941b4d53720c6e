import { readFileSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";

/** One dependency's state: ok, or why not. */
export interface ReadinessCheck {
  ok: boolean;
  /** Why it is not ok (never a secret: no URL, no credentials). */
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: {
    database: ReadinessCheck;
    migrations: ReadinessCheck;
    /** Absent when no REDIS_URL is configured. */
    redis?: ReadinessCheck;
    usageWriter: ReadinessCheck;
  };
}

export interface ReadinessDeps {
  db: Database;
  /** The Redis the rate limits and throttles share, or null when each process counts alone. */
  redis: { ping(): Promise<unknown> } | null;
  /** Defined while the usage writer's queue is over its bound (the database is slower than the traffic). */
  usageBackpressure: () => Promise<void> | undefined;
  /** How many migrations this build ships (`drizzle/meta/_journal.json`). */
  expectedMigrations: number;
  /** A dependency slower than this to answer counts as down. */
  timeoutMs?: number;
}

/** How many migrations the build ships, from drizzle's journal in `folder`. */
export function shippedMigrationCount(folder: string): number {
  const journal = JSON.parse(readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

async function probe(run: () => Promise<void>, timeoutMs: number): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ReadinessCheck>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([run().then(() => ({ ok: true })), timeout]);
  } catch (error) {
    // Driver messages name hosts at most; connection strings are never in them.
    return { ok: false, error: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a load balancer asks before sending traffic (`/readyz`): the database answers and has every migration this
 * build expects (an instance on a database an older or restored schema would fail calls), Redis answers when one is
 * configured, and the usage writer is keeping up. Liveness (`/healthz`) asks nothing of them: a process that cannot
 * reach its database should be taken out of rotation, not restarted.
 */
export function createReadinessProbe(deps: ReadinessDeps): () => Promise<ReadinessReport> {
  const timeoutMs = deps.timeoutMs ?? 2_000;
  return async () => {
    // Set by the database check: how many migrations the database has applied.
    const counted: { applied: number | null } = { applied: null };
    const [database, redis] = await Promise.all([
      probe(async () => {
        const [row] = rowsOf<{ applied: number }>(
          await deps.db.execute(sql`select count(*)::int as applied from drizzle.__drizzle_migrations`),
        );
        counted.applied = row?.applied ?? 0;
      }, timeoutMs),
      deps.redis === null
        ? Promise.resolve(undefined)
        : probe(async () => {
            await deps.redis!.ping();
          }, timeoutMs),
    ]);
    const { applied } = counted;
    const migrations: ReadinessCheck =
      applied === null
        ? { ok: false, error: "unknown: the database did not answer" }
        : applied >= deps.expectedMigrations
          ? { ok: true }
          : { ok: false, error: `${applied} of ${deps.expectedMigrations} migrations applied` };
    const usageWriter: ReadinessCheck =
      deps.usageBackpressure() === undefined
        ? { ok: true }
        : { ok: false, error: "backed up: usage is queued faster than the database writes it" };
    const checks = { database, migrations, ...(redis === undefined ? {} : { redis }), usageWriter };
    return { ready: Object.values(checks).every((check) => check.ok), checks };
  };
}
