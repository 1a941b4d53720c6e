/** Starts the two long-lived children: the mock upstream (core 1) and Tollgate's production entry (core 0). */
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { ensureServerBuild } from "~/scripts/server-build";
import { PRODUCTION_NODE_FLAGS } from "~/node-flags";
import { spawnNode, type NodeChild } from "./children";
import { verifyNodeProcess, type ProcessIdentity } from "./process-stats";

export const GATEWAY_CPU = 0;
export const LOAD_CPU = 1;
const STARTUP_TIMEOUT_MS = 180_000;

/** Only what a node process needs from the bench's environment: no provider keys or stray configuration. */
export function baseEnvironment(): NodeJS.ProcessEnv {
  // BALANCE_LEASES=false measures per-call holds on PostgreSQL, for comparison with leases.
  const keep = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "BALANCE_LEASES"];
  const env: NodeJS.ProcessEnv = { NODE_ENV: "production" };
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

export interface MockUpstream {
  child: NodeChild;
  /** http://127.0.0.1:PORT */
  origin: string;
  identity: ProcessIdentity;
}

export async function startMockUpstream(chunks: number, pin: boolean): Promise<MockUpstream> {
  const script = "src/bench/mock-upstream.ts";
  const child = spawnNode({
    name: "mock upstream",
    script,
    args: ["--chunks", String(chunks)],
    env: baseEnvironment(),
    cpu: pin ? LOAD_CPU : null,
  });
  const [, origin] = await child.waitForLine(/^mock upstream listening on (http:\/\/\S+)$/, 60_000);
  return { child, origin: origin!, identity: verifyNodeProcess(child.pid, script, pin ? String(LOAD_CPU) : null) };
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface GatewayEnvironmentInput {
  workDir: string;
  port: number;
  databaseUrl: string | null;
  /** The request log and metrics on, as production runs them; off measures what they cost. */
  telemetry: boolean;
}

/** The gateway's environment; the CLI gets the same one so that it finds the same database and keys. */
export function gatewayEnvironment(input: GatewayEnvironmentInput): NodeJS.ProcessEnv {
  return {
    ...baseEnvironment(),
    SERVE_DASHBOARD: "false",
    HOST: "127.0.0.1",
    PORT: String(input.port),
    // As production runs it: a request log line per call, and metrics kept for a scraper (unless measuring without).
    LOG_LEVEL: input.telemetry ? "info" : "warn",
    ...(input.telemetry ? { METRICS_TOKEN: randomBytes(24).toString("hex") } : {}),
    DATA_DIR: path.join(input.workDir, "data"),
    PGLITE_DIR: path.join(input.workDir, "pglite"),
    AUTH_SECRET: randomBytes(30).toString("base64url"),
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    ADMIN_EMAIL: "admin@bench.local",
    ADMIN_PASSWORD: randomBytes(18).toString("base64url"),
    ...(input.databaseUrl === null ? {} : { DATABASE_URL: input.databaseUrl }),
  };
}

export interface Gateway {
  child: NodeChild;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** The rest of the listening line, e.g. "(dashboard off, database pglite)". */
  banner: string;
  identity: ProcessIdentity;
}

export async function startGateway(
  env: NodeJS.ProcessEnv,
  pin: boolean,
  options: { profileDir: string | null } = { profileDir: null },
): Promise<Gateway> {
  // What `npm start` runs: the bundle, with plain Node.
  const script = ensureServerBuild();
  // node writes the profile when the gateway exits, which the bench makes it do gracefully at the end.
  const nodeFlags = [
    ...PRODUCTION_NODE_FLAGS,
    ...(options.profileDir === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`]),
  ];
  const child = spawnNode({ name: "gateway", script, nodeFlags, env, cpu: pin ? GATEWAY_CPU : null, keepLines: 500 });
  const [, origin, banner] = await child.waitForLine(
    /^Tollgate listening on (http:\/\/\S+)\s*(.*)$/,
    STARTUP_TIMEOUT_MS,
  );
  return {
    child,
    origin: origin!,
    banner: banner ?? "",
    identity: verifyNodeProcess(child.pid, script, pin ? String(GATEWAY_CPU) : null),
  };
}
