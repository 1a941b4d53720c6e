import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { inject } from "vitest";
import { openDatabase } from "~/server/db";
import { defaultMigrationsFolder as MIGRATIONS_FOLDER, migrate } from "~/server/db/migrate";

/*
 * Creating an embedded database (initdb) costs PGlite seconds, and every test that starts from an empty one used to pay
 * it, with the migrations on top. A test run makes one migrated database instead (kept between runs while the
 * migrations and PGlite stay the same) and every fresh embedded database of the run starts as a copy: a data directory
 * for a server or CLI process, or an archive loaded by an in-memory one. A copy holds the schema only, no rows, so it
 * is the database a first start would have made.
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

/** Named after what decides its contents: the migrations and the PGlite release. */
function templateName(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(MIGRATIONS_FOLDER, { recursive: true, withFileTypes: true })) {
    if (!file.isFile()) continue;
    const full = path.join(file.parentPath, file.name);
    hash.update(path.relative(MIGRATIONS_FOLDER, full)).update(readFileSync(full));
  }
  // Not importable (the package's exports leave it out): read from where npm installed it.
  const packageFile = fileURLToPath(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url));
  const pglite = JSON.parse(readFileSync(packageFile, "utf8")) as { version: string };
  hash.update(pglite.version);
  return `tollgate-pglite-template-${hash.digest("hex").slice(0, 16)}`;
}

/** For a global setup: the run's template, made unless an earlier run left one for the same migrations. */
export async function preparePgliteTemplate(): Promise<PgliteTemplate> {
  const folder = path.join(tmpdir(), templateName());
  const template = { dataDir: path.join(folder, "data"), archive: path.join(folder, "data.tar") };
  if (existsSync(template.archive)) return template;

  // Made aside and renamed into place whole: a run that stops halfway, or runs alongside, never leaves half of one.
  const building = mkdtempSync(`${folder}.building-`);
  try {
    const dataDir = path.join(building, "data");
    const database = openDatabase({ kind: "pglite", dataDir });
    try {
      await migrate(database, MIGRATIONS_FOLDER);
      // The archive a backup writes, unzipped: an in-memory database loads it in a third of the time.
      writeFileSync(path.join(building, "data.tar"), gunzipSync(await database.dumpEmbedded!()));
    } finally {
      await database.close();
    }
    try {
      renameSync(building, folder);
    } catch (error) {
      // Another run finished the same template first: theirs is as good.
      if (!existsSync(template.archive)) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
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

let archiveBytes: Uint8Array<ArrayBuffer> | undefined;

/** The archive an in-memory test database starts from, read once per test file; undefined without a template. */
export function pgliteTemplateArchive(): Uint8Array<ArrayBuffer> | undefined {
  const template = providedTemplate();
  if (template === undefined) return undefined;
  archiveBytes ??= new Uint8Array(readFileSync(template.archive));
  return archiveBytes;
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
