import path from "node:path";
import { openDatabase } from "~/server/db";
import { readBackupFile, restoreEmbeddedDatabase, writeBackupFile } from "~/server/db/embedded-backup";
import { migrate } from "~/server/db/migrate";
import { reconcileBalances } from "~/server/services/reconcile";
import { CommandError, optionFlag, type CommandInput, type CommandSpec } from "../command";
import type { Invoker } from "../invoker";

const ON_POSTGRES =
  "DATABASE_URL points at PostgreSQL: back it up with pg_dump and restore it with pg_restore " +
  "(docs/operations.md, Backups and restore)";

/** A server behind the control socket has its own working directory: FILE is made absolute first. */
function absoluteFile(input: CommandInput, invoker: Invoker | null): CommandInput {
  if (invoker === null) return input;
  return { ...input, positionals: input.positionals.map((file) => path.resolve(invoker.cwd, file)) };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

export const backupCommand: CommandSpec = {
  path: ["backup"],
  summary: "Write the embedded database to FILE (a gzipped archive), consistent while the server keeps serving",
  positionals: [{ name: "FILE", description: "Where to write the backup, e.g. tollgate-2026-12-06.tar.gz" }],
  options: { force: { type: "boolean", description: "Replace FILE if it exists" } },
  localize: absoluteFile,
  async run(input, { database, env, writeQueuedUsage }) {
    if (database.dumpEmbedded === undefined) throw new CommandError(ON_POSTGRES);
    const file = input.positionals[0]!;
    // Calls answered before the backup was asked for are in it, not left in the usage writer's queue. A writer that
    // cannot write (the server logs why and retries) does not stop the backup: what is committed is worth keeping,
    // and the operator is told what it lacks.
    let unwritten: string | null = null;
    try {
      await writeQueuedUsage?.();
    } catch (error) {
      unwritten = error instanceof Error ? error.message : String(error);
    }
    const archive = await database.dumpEmbedded();
    try {
      await writeBackupFile(file, archive, optionFlag(input, "force"));
    } catch (error) {
      throw new CommandError(error instanceof Error ? error.message : String(error));
    }
    const done = `Backed up ${env.PGLITE_DIR} to ${file} (${megabytes(archive.byteLength)}). Restore it with \`tollgate restore ${file}\`.`;
    const lacking =
      unwritten === null
        ? ""
        : `\nThe server could not write the calls it still holds (${unwritten}); they are not in this backup.`;
    return {
      text: done + lacking,
      json: { file, bytes: archive.byteLength, allAnsweredCallsIncluded: unwritten === null },
    };
  },
};

export const restoreCommand: CommandSpec = {
  path: ["restore"],
  summary:
    "Replace the embedded database with a backup (stop the server first); the database it replaces is kept beside it, and every balance is checked against the ledger",
  positionals: [{ name: "FILE", description: "A file written by `tollgate backup`" }],
  options: {},
  localize: absoluteFile,
  run() {
    // Only a server that has the database open gets here (the CLI restores on its own when none answers).
    return Promise.reject(
      new CommandError("the server has the database open: stop it, run `tollgate restore` again, then start it"),
    );
  },
  async runUnopened(input, env) {
    if (env.DATABASE_URL !== undefined) throw new CommandError(ON_POSTGRES);
    const file = input.positionals[0]!;
    let archive: Uint8Array<ArrayBuffer>;
    try {
      archive = await readBackupFile(file);
    } catch (error) {
      const missing = error instanceof Error && "code" in error && error.code === "ENOENT";
      throw new CommandError(
        missing ? `no such file: ${file}` : error instanceof Error ? error.message : String(error),
      );
    }
    const dataDir = path.resolve(env.PGLITE_DIR);
    // A backup of an older version is brought up to this one's schema, then checked: every balance against its
    // ledger. A failure on the way puts the previous database back.
    const { replacedDir, prepared } = await restoreEmbeddedDatabase(archive, dataDir, async () => {
      const database = openDatabase({ kind: "pglite", dataDir, sharedBuffers: env.PGLITE_SHARED_BUFFERS });
      try {
        await migrate(database);
        return await reconcileBalances(database.db);
      } finally {
        await database.close();
      }
    });
    const { accounts, entries, mismatches } = prepared;
    const kept = replacedDir === null ? "" : ` The database it replaced is kept in ${replacedDir}.`;
    if (mismatches.length > 0) {
      // The backup itself disagrees with its ledger: restored as it is, for an operator to look into.
      throw new CommandError(
        `Restored ${file} into ${dataDir}, but ${mismatches.length} of ${accounts} accounts differ from their ledger ` +
          `(${mismatches
            .slice(0, 5)
            .map((mismatch) => mismatch.email)
            .join(", ")}): run \`tollgate billing reconcile\` for the figures.${kept}`,
      );
    }
    return {
      text: `Restored ${file} into ${dataDir}. All ${accounts} accounts match their ledger (${entries} entries).${kept}`,
      json: { file, dataDir, replacedDir, accounts, entries, mismatches: [] },
    };
  },
};

export const backupCommands = [backupCommand, restoreCommand];
