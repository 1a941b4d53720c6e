import type { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { HoldStatements } from "~/server/gateway/billing/balance-holds";
import type { LeaseStatements } from "~/server/gateway/billing/lease-statements";
import { createHoldStatements, createLeaseStatements } from "./hold-statements";
import { PgliteThread } from "./pglite-thread";
import { rowsOf } from "./raw-rows";
import * as schema from "./schema";

export type Schema = typeof schema;
/** The one database type the app codes against, whether PGlite or PostgreSQL sits behind it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the database or a transaction: helpers that must run inside a caller's transaction take this. */
export type Queryable = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: "pglite" | "postgres";
  /**
   * PostgreSQL only: the balance-hold statements, on connections whose commits do not wait for the WAL to reach disk
   * (`synchronous_commit = off`). Many calls of one account take the same row lock, and waiting for a disk flush
   * while holding it would serialise them at disk speed. A database crash may forget the newest holds, never money
   * (holds are not ledger entries, and settlement releases only the holds it finds).
   */
  holdStatements?: HoldStatements;
  /**
   * PostgreSQL only: the balance-lease statements, on ordinary connections. A lease is a slice of a balance that a
   * process admits many calls against, so its grant must survive a database crash; it is asked for rarely.
   */
  leaseStatements?: LeaseStatements;
  /**
   * Subscribes to a PostgreSQL NOTIFY channel; resolves to an unsubscribe function. `onResubscribed` is told when the
   * listening connection was lost and listens again: whatever was notified in between never arrived.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onResubscribed?: () => void,
  ): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Runs a query of one text column and gives each row's value as UTF-8 bytes: on PostgreSQL the bytes as they came
   * off the wire, never decoded into strings. For output that is passed on as it is (the CSV export), where decoding
   * and encoding again cost more than the database took to write it. A null comes back empty.
   */
  textRows(query: SQL): Promise<Uint8Array[]>;
  /**
   * The embedded database only: its data directory as a gzipped tar, taken while it serves (`tollgate backup`). On
   * PostgreSQL, pg_dump does this.
   */
  dumpEmbedded?(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: "postgres"; url: string; poolSize?: number }
  /**
   * `dataDir` undefined keeps the database in memory (tests); `sharedBuffers` is PostgreSQL's size, e.g. "16MB";
   * `niceness` is the database thread's and `startFrom` an in-memory database's first contents (both
   * pglite-thread-messages.ts).
   */
  | {
      kind: "pglite";
      dataDir?: string;
      sharedBuffers?: string;
      niceness?: number;
      startFrom?: string;
    };

const NO_BYTES = new Uint8Array(0);
const utf8 = new TextEncoder();

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const handle = options.kind === "postgres" ? openPostgres(options.url, options.poolSize ?? 10) : openPglite(options);
  // Several owners may shut down (the container, a test, a signal handler): closing twice is harmless.
  let closing: Promise<void> | undefined;
  return { ...handle, close: () => (closing ??= handle.close()) };
}

function openPostgres(url: string, poolSize: number): DatabaseHandle {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    // Balances and prices are bigint nano-USD; never let them pass through a JS number.
    types: { bigint: postgres.BigInt },
  });
  const db = drizzlePostgres({ client, schema, casing: "snake_case" });
  const unsyncedClient = postgres(url, {
    max: Math.max(2, Math.ceil(poolSize / 2)),
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: { synchronous_commit: "off" },
  });
  // The same rendering drizzle gives `db`'s queries, for the few that go to postgres.js directly.
  const dialect = new PgDialect({ casing: "snake_case" });
  return {
    db,
    holdStatements: createHoldStatements(unsyncedClient),
    leaseStatements: createLeaseStatements(client),
    kind: "postgres",
    async listen(channel, onPayload, onResubscribed) {
      // postgres.js listens again on a new connection after losing one, and says so each time it listens.
      let listened = 0;
      const subscription = await client.listen(channel, onPayload, () => {
        listened += 1;
        if (listened > 1) onResubscribed?.();
      });
      return () => subscription.unlisten();
    },
    async notify(channel, payload) {
      await client.notify(channel, payload);
    },
    async textRows(query) {
      // Prepared (once per connection): the export runs one statement for page after page, and parsing and planning
      // it each time made a day's export (33,000 lines) take about 125 ms instead of 80.
      const { sql: text, params } = dialect.sqlToQuery(query);
      const rows = await client.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).raw();
      return rows.map(([value]) => value ?? NO_BYTES);
    },
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), unsyncedClient.end({ timeout: 5 })]);
    },
  };
}

function openPglite(options: Omit<Extract<DatabaseOptions, { kind: "pglite" }>, "kind">): DatabaseHandle {
  const settings: Record<string, string> = {};
  if (options.sharedBuffers !== undefined) settings.shared_buffers = options.sharedBuffers;
  const client = new PgliteThread({
    dataDir: options.dataDir,
    settings,
    niceness: options.niceness,
    startFrom: options.startFrom,
  });
  const db = drizzlePglite({ client: client as unknown as PGlite, schema, casing: "snake_case" });
  return {
    db,
    kind: "pglite",
    listen: (channel, onPayload) => client.listen(channel, onPayload),
    async notify(channel, payload) {
      await client.query("select pg_notify($1, $2)", [channel, payload]);
    },
    async textRows(query) {
      // PGlite hands over decoded rows only.
      return rowsOf<Record<string, string | null>>(await db.execute(query)).map((row) =>
        utf8.encode(Object.values(row)[0] ?? ""),
      );
    },
    dumpEmbedded: () => client.dumpDataDir(),
    close: () => client.close(),
  };
}
