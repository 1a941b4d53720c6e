/**
 * Bundles the production entry (`src/main.ts`), the embedded database's worker and the operator CLI into
 * `.build/src/`, when their sources changed since the last build. `npm start`, the bench and the tests that start the
 * production entry or the CLI run the bundle with plain Node: a TypeScript loader in the serving process kept 60–90 MB
 * more resident for its compiled modules and source maps, and took two of a CLI command's three seconds.
 *
 * Packages stay in node_modules (PGlite loads its WebAssembly from there, Next its build, argon2 its native binary),
 * except the pure JavaScript ones made of hundreds of small modules: resolving drizzle-orm's and zod's files one by one
 * was half of what was left of a process's start.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";
import { sourceStamp } from "./source-stamp";

const root = process.cwd();
const BUILD_INPUTS = ["src", "package.json", "package-lock.json", "tsconfig.json"];
/** Named after the sources it is built from (process listings then show `.build/src/main.mjs`). */
export const SERVER_BUILD_DIR = path.join(root, ".build", "src");
/** The production entry, relative to the repository root (as `npm start` names it). */
export const SERVER_ENTRY = ".build/src/main.mjs";
/** The operator CLI (`src/cli/index.ts`), relative to the repository root. */
export const CLI_ENTRY = ".build/src/tollgate.mjs";
/** Bundled into the build rather than loaded from node_modules (see above). */
const INLINED_PACKAGES = new Set(["drizzle-orm", "zod"]);
const STAMP_FILE = path.join(SERVER_BUILD_DIR, "source-stamp");

/** Writes a file whole or not at all: a server starting meanwhile, or a second build, never reads half of it. */
function writeAtomically(file: string, contents: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

/** Every dependency but the inlined ones (a name also covers its subpaths, e.g. `next/dist/...`). */
function externalPackages(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  return Object.keys(manifest.dependencies).filter((name) => !INLINED_PACKAGES.has(name));
}

/** `node_modules/@scope/name/dist/x.js` → `@scope/name`, from the innermost node_modules. */
function packageNameOf(input: string): string {
  const parts = input.slice(input.lastIndexOf("node_modules/") + "node_modules/".length).split("/");
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Builds the server bundle unless it is up to date; returns the entry's path relative to the repository root. */
export function ensureServerBuild(): string {
  const stamp = sourceStamp(root, BUILD_INPUTS);
  if (
    [SERVER_ENTRY, CLI_ENTRY].every((entry) => existsSync(path.join(root, entry))) &&
    existsSync(STAMP_FILE) &&
    readFileSync(STAMP_FILE, "utf8") === stamp
  ) {
    return SERVER_ENTRY;
  }
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: {
      main: "src/main.ts",
      "pglite-thread-worker": "src/server/db/pglite-thread-worker.ts",
      tollgate: "src/cli/index.ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    external: externalPackages(),
    outdir: SERVER_BUILD_DIR,
    outExtension: { ".js": ".mjs" },
    write: false,
    metafile: true,
    logLevel: "warning",
  });
  // What is not named external gets bundled: a package imported without being a dependency would land in the bundle
  // unnoticed, its files and assets no longer where it expects them.
  const bundledPackages = Object.keys(result.metafile.inputs).filter(
    (input) => input.includes("node_modules/") && !INLINED_PACKAGES.has(packageNameOf(input)),
  );
  if (bundledPackages.length > 0) {
    throw new Error(`the server bundle took in packages that are not dependencies: ${bundledPackages.join(", ")}`);
  }
  mkdirSync(SERVER_BUILD_DIR, { recursive: true });
  for (const output of result.outputFiles) writeAtomically(output.path, output.contents);
  writeAtomically(STAMP_FILE, stamp);
  return SERVER_ENTRY;
}
