/**
 * `npm start`: builds the dashboard when its sources changed since the last build (or it was never built), then runs
 * the production entry in this same process. A fresh clone needs nothing but `npm install && npm start`.
 */
import { loadDotEnv, readEnv } from "~/env";
import { ensureDashboardBuild } from "./dashboard-build";

loadDotEnv();
if (readEnv().SERVE_DASHBOARD) {
  try {
    ensureDashboardBuild();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
await import("~/main");
