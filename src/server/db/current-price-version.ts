import { getTableName, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";

/**
 * The id of an endpoint's newest price version (the version its prices are now), as a scalar subquery: read in the
 * same statement as the endpoint's prices, the two always belong together. Null for an endpoint without versions.
 * The outer column is written with its table's name: drizzle leaves columns unqualified in single-table queries, and
 * an unqualified `id` would name the version's own.
 */
export function currentPriceVersionId(endpointId: AnyPgColumn): SQL<number | null> {
  const outer = sql`${sql.identifier(getTableName(endpointId.table))}.${sql.identifier(endpointId.name)}`;
  return sql<number | null>`(select max(version.id) from endpoint_price_versions as version
    where version.endpoint_id = ${outer})`.mapWith(Number);
}
