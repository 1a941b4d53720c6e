import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { inject } from "vitest";
import { openDatabase } from "~/server/db";
import { migrate } from "~/server/db/migrate";
import { MIGRATIONS_FOLDER, REPO_ROOT } from "./repo-paths";

/*
 * Creating an embedded database (initdb) costs PGlite seconds, and every test that starts from an empty one used to pay
 * it, with the migrations on top. A test run makes one migrated database instead (kept between runs while what made it
 * stays the same) and each fresh embedded database of the run starts as a copy: an in-memory one loads it as an
 * archive, a server process's data directory is a copy of its directory. A copy holds the schema only, no rows, so it
 * is the database a first start would have made. CLI processes, and the production entry test, still create theirs.
 */

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: PgliteTemplate;
  }
}

export interface PgliteTemplate {
  /** A migrated data directory no process has open: copy it, never open it. */
  dataDir: string;
  /** The same directory as the uncompressed archive `dumpDataDir` writes. */
  archive: string;
}

/** In the project (like other tools' caches), not the shared temporary folder: one user's, removed with node_modules. */
const CACHE_FOLDER = path.join(REPO_ROOT, "node_modules", ".cache", "tollgate-pglite-template");
/** Written last into a finished template: a folder without it is a run's leftover, never used. */
const READY_FILE = "ready";
/** A template being built this long ago belongs to a run that ended without finishing it. */
const ABANDONED_MS = 60 * 60 * 1000;

/**
 * Everything that decides the template's contents: the migrations, the locked package versions (PGlite, and
 * drizzle-orm's migrator, which keeps its own table) and the code that creates and migrates the database.
 */
function templateKey(): string {
  const hash = createHash("sha256");
  const files = [
    ...readdirSync(MIGRATIONS_FOLDER, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name)),
    path.join(REPO_ROOT, "package-lock.json"),
    path.join(REPO_ROOT, "src/server/db/pglite-thread-worker.ts"),
    path.join(REPO_ROOT, "src/server/db/migrate.ts"),
  ].sort();
  for (const file of files) hash.update(path.relative(REPO_ROOT, file)).update("\0").update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

/** Finished templates made for other keys, and builds a run abandoned: only this key's template is worth its space. */
function removeOtherTemplates(keep: string): void {
  for (const name of readdirSync(CACHE_FOLDER)) {
    const folder = path.join(CACHE_FOLDER, name);
    if (name === keep) continue;
    const abandoned = name.includes(".building-") && Date.now() - statSync(folder).mtimeMs > ABANDONED_MS;
    if (abandoned || existsSync(path.join(folder, READY_FILE))) rmSync(folder, { recursive: true, force: true });
  }
}

/** For a global setup: the run's template, made unless an earlier run left a finished one for the same key. */
export async function preparePgliteTemplate(): Promise<PgliteTemplate> {
  const key = templateKey();
  const folder = path.join(CACHE_FOLDER, key);
  const template = { dataDir: path.join(folder, "data"), archive: path.join(folder, "data.tar") };
  if (existsSync(path.join(folder, READY_FILE))) return template;

  mkdirSync(CACHE_FOLDER, { recursive: true });
  // A folder without its ready file is what an interrupted run left behind.
  rmSync(folder, { recursive: true, force: true });
  // Made aside and renamed into place whole: a run that stops halfway, or runs alongside, never leaves half of one.
  const building = mkdtempSync(`${folder}.building-`);
  try {
    const database = openDatabase({ kind: "pglite", dataDir: path.join(building, "data") });
    try {
      await migrate(database, MIGRATIONS_FOLDER);
      // The archive a backup writes, unzipped: an in-memory database loads it in a third of the time.
      writeFileSync(path.join(building, "data.tar"), gunzipSync(await database.dumpEmbedded!()));
    } finally {
      await database.close();
    }
    writeFileSync(path.join(building, READY_FILE), `${new Date().toISOString()}\n`);
    try {
      renameSync(building, folder);
    } catch (error) {
      // Another run finished the same template first: theirs is as good.
      if (!existsSync(path.join(folder, READY_FILE))) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  removeOtherTemplates(key);
  return template;
}

function providedTemplate(): PgliteTemplate | undefined {
  try {
    return inject("pgliteTemplate");
  } catch {
    // Outside a vitest worker (nothing provides one): every database is created from nothing, as before.
    return undefined;
  }
}

/** The archive file an in-memory test database starts from (`startFrom`); undefined without a template. */
export function pgliteTemplateArchive(): string | undefined {
  return providedTemplate()?.archive;
}

/**
 * Makes `dataDir` a copy of the template unless it exists already: a process started on it then opens a migrated
 * database rather than creating one. Without a template, leaves it for the process to create.
 */
export function seedPgliteDir(dataDir: string): void {
  const template = providedTemplate();
  if (template === undefined || existsSync(dataDir)) return;
  cpSync(template.dataDir, dataDir, { recursive: true });
}
