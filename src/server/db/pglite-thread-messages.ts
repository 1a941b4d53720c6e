/**
 * The messages between the main thread and the worker thread that owns the embedded database (pglite-thread.ts and
 * pglite-thread-worker.ts). Types only: the worker imports this file for its types, so Node runs the worker without
 * resolving it.
 */

export interface PgliteThreadOptions {
  /** undefined keeps the database in memory (tests). */
  dataDir: string | undefined;
  /** Extra `-c name=value` settings for the embedded server. */
  settings: Record<string, string>;
  /**
   * The database thread's nice value on Linux (0 = as the main thread). 19 lets the event loop run first whenever
   * both want the core: the database's work is background batches, and the usage writer's bound (backpressure)
   * keeps it from falling behind for long.
   */
  niceness?: number;
  /**
   * An in-memory database starts as the data directory archived in this file (`dumpDataDir`, uncompressed) rather than
   * a new, empty one: creating a database (initdb) costs seconds, loading an archive a fraction of that. Tests start
   * each database from one migrated once per run. A path, not the bytes: the thread reads the file itself rather than
   * have tens of megabytes copied to it.
   */
  startFrom?: string;
}

export interface QueryOptionsMessage {
  rowMode?: "array" | "object";
  /**
   * Type OIDs whose values stay text. Drizzle asks PGlite to leave dates and intervals as text with identity parsers;
   * functions cannot cross threads, so they travel as the list of types they cover.
   */
  textTypes?: number[];
}

export type Request =
  | { op: "query"; id: number; tx?: number; sql: string; params: unknown[]; options: QueryOptionsMessage }
  | { op: "exec"; id: number; tx?: number; sql: string }
  | { op: "begin"; id: number }
  | { op: "end"; id: number; tx: number; commit: boolean }
  | { op: "listen"; id: number; channel: string }
  | { op: "unlisten"; id: number; channel: string }
  | { op: "dump"; id: number }
  | { op: "close"; id: number };

/** A database error's own fields (code, detail, constraint, …): errors lose them when cloned across threads. */
export interface ErrorMessage {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

export type Reply =
  | { kind: "result"; id: number; value: unknown }
  | { kind: "error"; id: number; error: ErrorMessage }
  | { kind: "notification"; channel: string; payload: string }
  | { kind: "ready" }
  | { kind: "failed"; error: ErrorMessage };
