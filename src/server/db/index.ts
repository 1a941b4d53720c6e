import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { HoldStatements } from "~/server/gateway/billing/balance-holds";
import type { LeaseStatements } from "~/server/gateway/billing/leased-balance-holds";
import { createHoldStatements, createLeaseStatements } from "./hold-statements";
import { jsonParam } from "./raw-rows";
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
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: "postgres"; url: string; poolSize?: number }
  /** `dataDir` undefined keeps the database in memory (tests). */
  | { kind: "pglite"; dataDir?: string };

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const handle =
    options.kind === "postgres" ? openPostgres(options.url, options.poolSize ?? 10) : openPglite(options.dataDir);
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
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), unsyncedClient.end({ timeout: 5 })]);
    },
  };
}

const JSONB_TYPE_OID = 3802;

/**
 * A jsonb parameter for PGlite as bytes in jsonb's binary format (a version byte, then the JSON text). PGlite sends a
 * text parameter after measuring and encoding it in JavaScript, character by character, which for the usage writer's
 * batch documents cost more than the rest of sending them; Node encodes these natively. PGlite's protocol layer sends
 * any byte array as a binary parameter, though its serializer type only names strings.
 */
function jsonbParameter(value: unknown): string {
  const text = typeof value === "string" ? value : jsonParam(value);
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(text));
  bytes[0] = 1;
  bytes.write(text, 1);
  return bytes as unknown as string;
}

function openPglite(dataDir: string | undefined): DatabaseHandle {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir, { serializers: { [JSONB_TYPE_OID]: jsonbParameter } });
  const db = drizzlePglite({ client, schema, casing: "snake_case" });
  return {
    db,
    kind: "pglite",
    async listen(channel, onPayload) {
      const unsubscribe = await client.listen(channel, onPayload);
      return unsubscribe;
    },
    async notify(channel, payload) {
      await client.query("select pg_notify($1, $2)", [channel, payload]);
    },
    close: () => client.close(),
  };
}
