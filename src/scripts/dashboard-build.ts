/**
 * Builds the dashboard (`next build`) when its sources changed since the last build, or it was never built.
 * Used by `npm start` and by the test that serves the dashboard from the production entry.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
  const result = spawnSync(
    process.execPath,
    [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"],
    {
      stdio: "inherit",
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: "1",
        NODE_ENV: "production",
        ...(typeChecked ? { TOLLGATE_BUILD_TYPE_CHECKED: "1" } : {}),
      },
    },
  );
  if (result.status !== 0) {
    throw new Error("Dashboard build failed; see the output above.");
  }
  writeFileSync(STAMP_FILE, stamp);
}
