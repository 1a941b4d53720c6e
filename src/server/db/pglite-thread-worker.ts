/**
 * The worker thread that owns the embedded database (see pglite-thread.ts). It imports nothing of the app's at run
 * time, only PGlite and Node, so Node runs it as it stands, under a TypeScript loader or without one.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import path from "node:path";
import { parentPort, Worker, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { ErrorMessage, PgliteThreadOptions, Reply, Request } from "./pglite-thread-messages";

const JSONB_TYPE_OID = 3802;

/**
 * A jsonb parameter as bytes in jsonb's binary format (a version byte, then the JSON text). PGlite sends a text
 * parameter after measuring and encoding it in JavaScript, character by character, which for the usage writer's batch
 * documents cost more than the rest of sending them; Node encodes these natively. PGlite's protocol layer sends any
 * byte array as a binary parameter, though its serializer type only names strings.
 */
function jsonbParameter(value: unknown): string {
  const text =
    typeof value === "string"
      ? value
      : JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item));
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(text));
  bytes[0] = 1;
  bytes.write(text, 1);
  return bytes as unknown as string;
}

const keepText = (value: string) => value;

function errorMessage(error: unknown): ErrorMessage {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(error)) {
    // Only what clones: a database error's fields are strings and numbers.
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) fields[name] = value;
  }
  return { name: error.name, message: error.message, fields };
}

/**
 * The data directory as a gzipped tar, while the server keeps running. A CHECKPOINT first writes every committed
 * change into the data files; the copy is then taken under PGlite's transaction lock, so no other transaction is half
 * done and no statement runs while the files are read. What a restore opens is exactly the committed state at that
 * moment (a transaction still open would be rolled back by recovery, as after a crash).
 */
async function dumpConsistently(client: PGlite): Promise<ArrayBuffer> {
  await client.exec("CHECKPOINT");
  const archive = await client._runExclusiveTransaction(() => client.dumpDataDir("gzip"));
  return archive.arrayBuffer();
}

interface OpenTransaction {
  tx: Transaction;
  /** Settles the callback PGlite runs the transaction in (true commits); `endId` is answered once that is done. */
  finish: (commit: boolean, endId: number) => void;
}

/** Linux gives each thread a nice value of its own; `/proc/thread-self` names this thread ("<pid>/task/<tid>"). */
function setThisThreadsNiceness(niceness: number): void {
  if (process.platform !== "linux") return;
  const threadId = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
  setPriority(threadId, niceness);
}

function serve(port: NonNullable<typeof parentPort>, options: PgliteThreadOptions): void {
  if (options.niceness !== undefined && options.niceness !== 0) setThisThreadsNiceness(options.niceness);
  const settings = Object.entries(options.settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
  // One options object: PGlite reads its second argument only when the first is a directory, so an in-memory
  // database given (undefined, options) would silently lose every option here.
  const client = new PGlite({
    dataDir: options.dataDir,
    ...(options.startFrom !== undefined ? { loadDataDir: new Blob([readFileSync(options.startFrom)]) } : {}),
    serializers: { [JSONB_TYPE_OID]: jsonbParameter },
    ...(settings.length > 0 ? { startParams: [...PGlite.defaultStartParams, ...settings] } : {}),
  });
  const send = (reply: Reply) => port.postMessage(reply);
  const transactions = new Map<number, OpenTransaction>();
  const unlisteners = new Map<string, () => Promise<void>>();
  let nextTransaction = 1;

  function queryable(txNumber: number | undefined) {
    if (txNumber === undefined) return client;
    const open = transactions.get(txNumber);
    if (open === undefined) throw new Error(`transaction ${txNumber} is not open`);
    return open.tx;
  }

  /**
   * Runs a transaction in PGlite's own `transaction`, which keeps every other query out until it ends: answers `begin`
   * with the transaction's number once BEGIN ran, and the `end` request once COMMIT or ROLLBACK did.
   */
  function begin(beginId: number): void {
    const txNumber = nextTransaction++;
    let endId: number | undefined;
    client
      .transaction(async (tx) => {
        const commit = await new Promise<boolean>((resolve) => {
          transactions.set(txNumber, {
            tx,
            finish: (decision, requestId) => {
              endId = requestId;
              resolve(decision);
            },
          });
          send({ kind: "result", id: beginId, value: txNumber });
        });
        if (!commit) await tx.rollback();
      })
      .then(
        () => send({ kind: "result", id: endId ?? beginId, value: null }),
        // Before BEGIN answered (the database failed to open) the caller is still waiting on `begin`.
        (error: unknown) => send({ kind: "error", id: endId ?? beginId, error: errorMessage(error) }),
      )
      .finally(() => transactions.delete(txNumber));
  }

  async function handle(request: Request): Promise<unknown> {
    switch (request.op) {
      case "query": {
        const { rowMode, textTypes } = request.options;
        const parsers = textTypes ? Object.fromEntries(textTypes.map((type) => [type, keepText])) : undefined;
        return queryable(request.tx).query(request.sql, request.params, { rowMode, parsers });
      }
      case "exec":
        return queryable(request.tx).exec(request.sql);
      case "listen": {
        if (!unlisteners.has(request.channel)) {
          const channel = request.channel;
          unlisteners.set(
            channel,
            await client.listen(channel, (payload) => send({ kind: "notification", channel, payload })),
          );
        }
        return null;
      }
      case "unlisten": {
        const unlisten = unlisteners.get(request.channel);
        unlisteners.delete(request.channel);
        await unlisten?.();
        return null;
      }
      case "close":
        await client.close();
        return null;
      case "begin":
      case "end":
      case "dump":
        throw new Error(`${request.op} is answered on its own`);
    }
  }

  port.on("message", (request: Request) => {
    if (request.op === "dump") {
      // The archive moves to the main thread rather than being copied: it may be hundreds of megabytes.
      dumpConsistently(client).then(
        (archive) => port.postMessage({ kind: "result", id: request.id, value: archive } satisfies Reply, [archive]),
        (error: unknown) => send({ kind: "error", id: request.id, error: errorMessage(error) }),
      );
      return;
    }
    if (request.op === "begin") return begin(request.id);
    if (request.op === "end") {
      const open = transactions.get(request.tx);
      if (open === undefined) {
        const error = errorMessage(new Error(`transaction ${request.tx} is not open`));
        send({ kind: "error", id: request.id, error });
      } else {
        open.finish(request.commit, request.id);
      }
      return;
    }
    handle(request).then(
      (value) => send({ kind: "result", id: request.id, value }),
      (error: unknown) => send({ kind: "error", id: request.id, error: errorMessage(error) }),
    );
  });

  client.waitReady.then(
    () => send({ kind: "ready" }),
    (error: unknown) => send({ kind: "failed", error: errorMessage(error) }),
  );
}

/**
 * Creates a new data directory (initdb) on a thread of its own that then ends. PGlite runs initdb in WebAssembly
 * memory it never gives back: created in the serving thread, a fresh database idled at twice the memory of one opened
 * from an existing directory (700 MB against 360 MB).
 */
async function createDataDirectory(dataDir: string): Promise<void> {
  const creator = new Worker(new URL(import.meta.url), { workerData: { create: dataDir } });
  const [code] = (await Promise.race([
    new Promise((resolve) => creator.once("exit", (exitCode: number) => resolve([exitCode]))),
    new Promise((_, reject) => creator.once("error", reject)),
  ])) as [number];
  if (code !== 0) throw new Error(`creating the database in ${dataDir} failed (exit code ${code})`);
}

if (parentPort === null) throw new Error("pglite-thread-worker runs in a worker thread");
const port = parentPort;
const data = workerData as PgliteThreadOptions | { create: string };
if ("create" in data) {
  const created = new PGlite(data.create);
  await created.waitReady;
  await created.close();
} else if (data.dataDir !== undefined && !existsSync(path.join(data.dataDir, "PG_VERSION"))) {
  mkdirSync(data.dataDir, { recursive: true });
  createDataDirectory(data.dataDir).then(
    () => serve(port, data),
    (error: unknown) => port.postMessage({ kind: "failed", error: errorMessage(error) } satisfies Reply),
  );
} else {
  serve(port, data);
}
