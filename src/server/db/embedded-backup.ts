import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Backups of the embedded database: its data directory as the gzipped tar PGlite writes (`dumpDataDir`), taken by the
 * process that has it open (pglite-thread-worker.ts), and loaded back into an empty directory by PGlite itself.
 */

/** gzip's magic number: what every archive PGlite writes with compression starts with. */
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Writes the archive to `file` whole or not at all: into a temporary file beside it (owner-only: it holds every
 * account's data), synced, then renamed over. Refuses to replace an existing file unless `overwrite`.
 */
export async function writeBackupFile(file: string, archive: Uint8Array, overwrite: boolean): Promise<void> {
  if (!overwrite && existsSync(file)) throw new Error(`${file} already exists (pass --force to replace it)`);
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.partial`);
  const handle = await open(partial, "wx", 0o600);
  try {
    await handle.writeFile(archive);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(partial, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(partial, file);
  } catch (error) {
    // No stray copy of every account's data left behind.
    await rm(partial, { force: true });
    throw error;
  }
}

/** A backup file's bytes, refused early when it is not one (a restore would otherwise fail deep inside PGlite). */
export async function readBackupFile(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const archive = new Uint8Array(await readFile(file));
  if (archive[0] !== GZIP_MAGIC[0] || archive[1] !== GZIP_MAGIC[1]) {
    throw new Error(`${file} is not a backup written by \`tollgate backup\` (not a gzipped archive)`);
  }
  return archive;
}

function isEmptyOrMissing(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * Loads a backup into `dataDir`, then runs `prepare` on it (migrations, checks). A database already there is not
 * deleted: it is moved aside to `<dataDir>.replaced-<time>` (returned), so a restore of the wrong file can be undone;
 * if loading or `prepare` fails, it is put back and the half-restored directory removed. PGlite opens the restored
 * files as after a crash: whatever was committed when the backup was taken is there, nothing else.
 */
export async function restoreEmbeddedDatabase<T>(
  archive: Uint8Array<ArrayBuffer>,
  dataDir: string,
  prepare: () => Promise<T>,
  now: Date = new Date(),
): Promise<{ replacedDir: string | null; prepared: T }> {
  // Loaded before anything is moved: the restore runs in the CLI process, which never opens the database otherwise.
  const { PGlite } = await import("@electric-sql/pglite");
  let replacedDir: string | null = null;
  if (!isEmptyOrMissing(dataDir)) {
    replacedDir = `${dataDir}.replaced-${now.toISOString().replace(/[:.]/g, "-")}`;
    await rename(dataDir, replacedDir);
  }
  try {
    const restored = new PGlite(dataDir, { loadDataDir: new Blob([archive]) });
    try {
      await restored.waitReady;
      // The archive must hold this application's database, not merely any PostgreSQL directory (or a fresh one).
      await restored.query("select 1 from balances limit 1");
    } finally {
      await restored.close().catch(() => {});
    }
    return { replacedDir, prepared: await prepare() };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    if (replacedDir !== null) await rename(replacedDir, dataDir);
    throw error;
  }
}
