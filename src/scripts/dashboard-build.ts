/**
 * Builds the dashboard (`next build`) when its sources changed since the last build, or it was never built.
 * Used by `npm start` and by the test that serves the dashboard from the production entry.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sourceStamp } from "./source-stamp";

const root = process.cwd();
const STAMP_FILE = path.join(root, ".next", "tollgate-source-stamp");
const BUILD_INPUTS = ["src", "public", "next.config.mjs", "package-lock.json", "tsconfig.json"];

/**
 * `typeChecked`: the caller has just type-checked the project (`npm run typecheck`, as `npm test` does first), so the
 * build need not do it again.
 */
export function ensureDashboardBuild({ typeChecked = false }: { typeChecked?: boolean } = {}): void {
  const stamp = sourceStamp(root, BUILD_INPUTS);
  const built = existsSync(path.join(root, ".next", "BUILD_ID")) && existsSync(STAMP_FILE);
  if (built && readFileSync(STAMP_FILE, "utf8") === stamp) return;
  process.stdout.write("Building the dashboard (first start, or its sources changed)...\n");
  const buildDataDir = path.join(mkdtempSync(path.join(tmpdir(), "tollgate-build-")), "data");
  try {
    const result = spawnSync(
      process.execPath,
      [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"],
      {
        stdio: "inherit",
        env: {
          ...buildEnvironment(process.env, buildDataDir),
          NEXT_TELEMETRY_DISABLED: "1",
          NODE_ENV: "production",
          ...(typeChecked ? { TOLLGATE_BUILD_TYPE_CHECKED: "1" } : {}),
        },
      },
    );
    if (result.status !== 0) {
      throw new Error("Dashboard build failed; see the output above.");
    }
    // getContainer() refuses during the build, and Next hides that refusal once a page turns out to be dynamic; this
    // catches whatever else would open a database while prerendering (a page that opened one itself, or a guard
    // that stopped working).
    if (existsSync(buildDataDir)) {
      throw new Error(
        "`next build` opened a database: a page reached the container while it was prerendered. " +
          "Pages take it from requestContainer() (src/server/request-container.ts).",
      );
    }
  } finally {
    rmSync(path.dirname(buildDataDir), { recursive: true, force: true });
  }
  writeFileSync(STAMP_FILE, stamp);
}

/**
 * The build's environment: the caller's, without a database to reach. Every page renders per request, so the build
 * needs none; pointing DATA_DIR and PGLITE_DIR at a directory that does not exist, and emptying DATABASE_URL and
 * REDIS_URL (empty rather than unset, so that Next's reading of `.env` cannot bring them back), keeps a mistake from
 * opening (or, with PGlite, locking) the database a running server holds.
 */
function buildEnvironment(environment: NodeJS.ProcessEnv, buildDataDir: string): NodeJS.ProcessEnv {
  return {
    ...environment,
    DATABASE_URL: "",
    REDIS_URL: "",
    DATA_DIR: buildDataDir,
    PGLITE_DIR: path.join(buildDataDir, "pglite"),
  };
}
