import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ErrorMessage, PgliteThreadOptions, QueryOptionsMessage, Reply, Request } from "./pglite-thread-messages";

/**
 * The embedded database, run on a worker thread of its own. PGlite is PostgreSQL compiled to WebAssembly and runs
 * wherever it is called: on the main thread every commit of the usage writer (tens of milliseconds for a large batch)
 * stopped every /v1 call in flight. On its own thread it takes the second core, or on one core the scheduler's time
 * slices, and the event loop only posts and receives messages.
 *
 * This object answers the part of PGlite's client interface that Drizzle and the app use: `query`, `exec`,
 * `transaction`, `listen` and `close`. A transaction holds the database for itself on the worker (PGlite's own
 * `transaction`) while its statements come one message at a time.
 */

export interface PgliteQueryOptions {
  rowMode?: "array" | "object";
  /** Drizzle's parsers, which keep dates and intervals as text. Only identity parsers are supported. */
  parsers?: Record<number, (value: string, typeId: number) => unknown>;
}

export interface PgliteResults<Row> {
  rows: Row[];
  affectedRows?: number;
  fields: { name: string; dataTypeID: number }[];
}

export interface PgliteQueryable {
  query<Row>(sql: string, params?: unknown[], options?: PgliteQueryOptions): Promise<PgliteResults<Row>>;
  exec(sql: string): Promise<PgliteResults<unknown>[]>;
}

export interface PgliteTransaction extends PgliteQueryable {
  rollback(): Promise<void>;
  readonly closed: boolean;
}

/** The database error the worker reported, with its fields (code, detail, constraint, …) as own properties. */
class PgliteThreadError extends Error {
  constructor(reported: ErrorMessage) {
    super(reported.message);
    this.name = reported.name;
    Object.assign(this, reported.fields);
  }
}

/** Where the worker's module is: beside this one, or in the source tree when a bundler moved this file. */
function workerFile(): URL {
  for (const name of ["pglite-thread-worker.ts", "pglite-thread-worker.js", "pglite-thread-worker.mjs"]) {
    const beside = new URL(`./${name}`, import.meta.url);
    if (beside.protocol === "file:" && existsSync(fileURLToPath(beside))) return beside;
  }
  const inSource = path.resolve(process.cwd(), "src/server/db/pglite-thread-worker.ts");
  return new URL(`file://${inSource}`);
}

function queryOptionsMessage(options: PgliteQueryOptions | undefined): QueryOptionsMessage {
  if (options === undefined) return {};
  const textTypes = options.parsers ? Object.keys(options.parsers).map(Number) : undefined;
  return { rowMode: options.rowMode, textTypes };
}

export class PgliteThread implements PgliteQueryable {
  readonly #worker: Worker;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  #nextId = 1;
  /** Set when the worker can answer nothing more: every later call fails with it. */
  #broken: Error | undefined;
  readonly waitReady: Promise<void>;

  constructor(options: PgliteThreadOptions) {
    if (options.startFrom !== undefined && options.dataDir !== undefined) {
      throw new Error("startFrom is for an in-memory database; a data directory has its own contents");
    }
    this.#worker = new Worker(workerFile(), { workerData: options });
    // Like an in-process PGlite, an idle database does not keep the process alive; one with requests pending does.
    this.#worker.unref();
    const ready = Promise.withResolvers<void>();
    this.waitReady = ready.promise;
    // Nobody may wait on readiness; its failure reaches every request instead.
    ready.promise.catch(() => {});
    this.#worker.on("message", (reply: Reply) => {
      switch (reply.kind) {
        case "result":
          return this.#settle(reply.id, (pending) => pending.resolve(reply.value));
        case "error":
          return this.#settle(reply.id, (pending) => pending.reject(new PgliteThreadError(reply.error)));
        case "notification":
          for (const listener of this.#listeners.get(reply.channel) ?? []) listener(reply.payload);
          return;
        case "ready":
          return ready.resolve();
        case "failed":
          this.#fail(new PgliteThreadError(reply.error));
          return ready.reject(this.#broken);
      }
    });
    this.#worker.on("error", (error) => {
      this.#fail(error);
      ready.reject(error);
    });
    this.#worker.on("exit", (code) => {
      const error = new Error(`the database thread exited (code ${code})`);
      this.#fail(error);
      ready.reject(error);
    });
  }

  #settle(id: number, settle: (pending: PromiseWithResolvers<unknown>) => void): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    settle(pending);
  }

  #fail(error: Error): void {
    this.#broken ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #request<T>(request: DistributiveOmit<Request, "id">): Promise<T> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    const id = this.#nextId++;
    const pending = Promise.withResolvers<unknown>();
    if (this.#pending.size === 0) this.#worker.ref();
    this.#pending.set(id, pending);
    this.#worker.postMessage({ ...request, id });
    return pending.promise as Promise<T>;
  }

  query<Row>(sql: string, params: unknown[] = [], options?: PgliteQueryOptions): Promise<PgliteResults<Row>> {
    return this.#request({ op: "query", sql, params, options: queryOptionsMessage(options) });
  }

  exec(sql: string): Promise<PgliteResults<unknown>[]> {
    return this.#request({ op: "exec", sql });
  }

  async transaction<T>(work: (tx: PgliteTransaction) => Promise<T>): Promise<T> {
    const txNumber = await this.#request<number>({ op: "begin" });
    let ended: Promise<unknown> | undefined;
    const end = (commit: boolean) => (ended ??= this.#request({ op: "end", tx: txNumber, commit }));
    const request = this.#request.bind(this);
    const tx: PgliteTransaction = {
      query: (sql, params = [], options) =>
        request({ op: "query", tx: txNumber, sql, params, options: queryOptionsMessage(options) }),
      exec: (sql) => request({ op: "exec", tx: txNumber, sql }),
      async rollback() {
        await end(false);
      },
      get closed() {
        return ended !== undefined;
      },
    };
    let result: T;
    try {
      result = await work(tx);
    } catch (error) {
      // The statement that failed has said why; a failure to roll back (the thread gone) would only hide it.
      await end(false).catch(() => {});
      throw error;
    }
    await end(true);
    return result;
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    let listeners = this.#listeners.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
      await this.#request({ op: "listen", channel });
    }
    listeners.add(onPayload);
    return async () => {
      listeners.delete(onPayload);
      if (listeners.size > 0 || this.#listeners.get(channel) !== listeners) return;
      this.#listeners.delete(channel);
      await this.#request({ op: "unlisten", channel });
    };
  }

  /** The data directory as a gzipped tar, consistent while the database stays in use (pglite-thread-worker.ts). */
  async dumpDataDir(): Promise<Uint8Array> {
    return new Uint8Array(await this.#request<ArrayBuffer>({ op: "dump" }));
  }

  /** Closes the database and ends the thread; a thread that already failed is only ended. */
  async close(): Promise<void> {
    try {
      if (this.#broken === undefined) await this.#request({ op: "close" });
    } finally {
      // Referenced until it has ended: an idle thread does not keep the process alive, so a process with nothing else
      // to do could exit before the thread did, without ever coming back from close().
      this.#worker.ref();
      await this.#worker.terminate();
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
