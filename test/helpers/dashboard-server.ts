import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, startGatewayProcess, type GatewayProcess } from "./gateway-process";

/** The production entry serving the built dashboard and /v1 on one port, on a fresh PGlite database of its own. */
export interface DashboardServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  gateway: GatewayProcess;
  /** The operator CLI against this server (through its control socket), as `npm run tollgate -- …` would run it. */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

/**
 * Expects the dashboard to be built already (the e2e project's global setup builds it once per run). `env` adds to the
 * server's environment.
 */
export async function startDashboardServer(name: string, env: Record<string, string> = {}): Promise<DashboardServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `tollgate-e2e-${name}-`));
  const variables = { DATA_DIR: dataDir, PGLITE_DIR: path.join(dataDir, "pglite") };
  let gateway: GatewayProcess;
  try {
    gateway = await startGatewayProcess({ ...env, ...variables, SERVE_DASHBOARD: "true" });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    origin: gateway.baseUrl.replace(/\/v1$/, ""),
    gateway,
    cli: (args) => runCli(args, variables),
    async stop() {
      await gateway.stop("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
