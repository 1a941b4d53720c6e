import path from "node:path";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { DatabaseHandle, Schema } from "./index";

/** The committed migrations; resolved from the working directory because bundlers move this file. */
export const defaultMigrationsFolder = path.resolve(process.cwd(), "drizzle");

/** Applies every pending migration from `drizzle/`. The same function runs on boot, in the CLI and in tests. */
export async function migrate(handle: DatabaseHandle, migrationsFolder = defaultMigrationsFolder): Promise<void> {
  const config = { migrationsFolder };
  if (handle.kind === "pglite") {
    await migratePglite(handle.db as PgliteDatabase<Schema>, config);
  } else {
    await migratePostgres(handle.db as PostgresJsDatabase<Schema>, config);
  }
}
