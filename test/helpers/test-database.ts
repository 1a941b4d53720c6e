import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { readEnv } from "~/env";
import { openDatabase, type DatabaseHandle } from "~/server/db";
import { migrate } from "~/server/db/migrate";
import { pgliteTemplateArchive } from "./pglite-template";
import { MIGRATIONS_FOLDER } from "./repo-paths";

export { MIGRATIONS_FOLDER };

export interface TestDatabase {
  /** An open, fully migrated database. Do not close it yourself: call drop(). */
  handle: DatabaseHandle;
  /** Connection URL of the throwaway PostgreSQL database (for child processes); null for in-memory PGlite. */
  url: string | null;
  /** Closes the handle and, on PostgreSQL, drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * Default: `postgres` when TEST_DATABASE_URL is set (as in CI), else `pglite`. Pass `pglite` to force an in-memory
   * database even then (tests that prove behaviour on both), `postgres` to require the server.
   */
  kind?: "pglite" | "postgres";
  /** Connections in the pool, PostgreSQL only (default 5). Tests of concurrency may want more. */
  poolSize?: number;
}

/** The kinds a test suite should cover here: always PGlite, PostgreSQL too when TEST_DATABASE_URL is set. */
export function availableDatabaseKinds(): ("pglite" | "postgres")[] {
  return testServerUrl() === undefined ? ["pglite"] : ["pglite", "postgres"];
}

function testServerUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL?.trim();
  return url === undefined || url === "" ? undefined : url;
}

async function withServer<T>(serverUrl: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * A fresh, migrated database for one test file or suite. On PostgreSQL it is a new database
 * `tollgate_test_<random>` created on the TEST_DATABASE_URL server, so suites can run in parallel and leave nothing
 * behind; in-memory PGlite otherwise.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const kind = options.kind ?? (serverUrl === undefined ? "pglite" : "postgres");

  if (kind === "pglite") {
    const handle = openDatabase({
      kind: "pglite",
      sharedBuffers: readEnv().PGLITE_SHARED_BUFFERS,
      startFrom: pgliteTemplateArchive(),
    });
    await migrate(handle, MIGRATIONS_FOLDER);
    let dropped: Promise<void> | undefined;
    return { handle, url: null, drop: () => (dropped ??= handle.close()) };
  }

  if (serverUrl === undefined) throw new Error('createTestDatabase({ kind: "postgres" }) needs TEST_DATABASE_URL');
  const name = `tollgate_test_${randomBytes(6).toString("hex")}`;
  await withServer(serverUrl, (sql) => sql.unsafe(`create database "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = openDatabase({ kind: "postgres", url: url.toString(), poolSize: options.poolSize ?? 5 });
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      await handle.close();
      // FORCE: a child process or a leaked connection must not keep the database alive.
      await withServer(serverUrl, (sql) => sql.unsafe(`drop database if exists "${name}" with (force)`));
    })());
  try {
    await migrate(handle, MIGRATIONS_FOLDER);
  } catch (error) {
    await drop();
    throw error;
  }
  return { handle, url: url.toString(), drop };
}
