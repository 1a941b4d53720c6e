/**
 * The first half of `npm start`: builds what changed since the last start (the dashboard when it is served, and the
 * server bundle) and exits; the second half runs the bundle with plain Node (package.json). A fresh clone needs
 * nothing but `npm install && npm start`.
 */
import { loadDotEnv, readEnv } from "~/env";
import { ensureDashboardBuild } from "./dashboard-build";
import { ensureServerBuild } from "./server-build";

loadDotEnv();
try {
  if (readEnv().SERVE_DASHBOARD) ensureDashboardBuild();
  ensureServerBuild();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
