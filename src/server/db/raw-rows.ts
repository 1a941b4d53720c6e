/**
 * Helpers for the few hot statements written as SQL by hand (the usage writer and the ledger): many rows travel as
 * one JSON parameter expanded by `jsonb_to_recordset`, which costs a fraction of building a thousand-parameter insert
 * with the query builder, and works the same on PGlite and PostgreSQL.
 */

/** One JSON document for `$1::jsonb`; bigints are written as strings, which PostgreSQL casts exactly. */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item));
}

/** The rows of a raw `execute` result, whichever driver produced it (postgres-js returns an array, PGlite `{rows}`). */
export function rowsOf<Row>(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as Row[]) : [];
}

/** How many rows a raw insert/update/delete touched, whichever driver ran it (PGlite `affectedRows`, postgres-js `count`). */
export function affectedRowsOf(result: unknown): number {
  const { affectedRows, count } = result as { affectedRows?: unknown; count?: unknown };
  if (typeof affectedRows === "number") return affectedRows;
  if (typeof count === "number") return count;
  throw new Error("the database driver reported no affected row count");
}
