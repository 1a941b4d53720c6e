/**
 * Builds the dashboard (`next build`) when its sources changed since the last build, or it was never built.
 * Used by `npm start` and by the test that serves the dashboard from the production entry.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = process.cwd();
const STAMP_FILE = path.join(root, ".next", "tollgate-source-stamp");
const BUILD_INPUTS = ["src", "public", "next.config.mjs", "package-lock.json", "tsconfig.json"];

/** A digest of every build input's path, size and modification time: cheap, and changes whenever a file does. */
function sourceStamp(): string {
  const hash = createHash("sha256");
  const visit = (entry: string) => {
    const full = path.join(root, entry);
    if (!existsSync(full)) return;
    const stats = statSync(full);
    if (stats.isDirectory()) {
      for (const child of readdirSync(full).sort()) visit(path.join(entry, child));
    } else {
      hash.update(`${entry}\0${stats.size}\0${stats.mtimeMs}\n`);
    }
  };
  BUILD_INPUTS.forEach(visit);
  return hash.digest("hex");
}

export function ensureDashboardBuild(): void {
  const stamp = sourceStamp();
  const built = existsSync(path.join(root, ".next", "BUILD_ID")) && existsSync(STAMP_FILE);
  if (built && readFileSync(STAMP_FILE, "utf8") === stamp) return;
  process.stdout.write("Building the dashboard (first start, or its sources changed)...\n");
  const result = spawnSync(
    process.execPath,
    [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"],
    {
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    },
  );
  if (result.status !== 0) {
    throw new Error("Dashboard build failed; see the output above.");
  }
  writeFileSync(STAMP_FILE, stamp);
}
