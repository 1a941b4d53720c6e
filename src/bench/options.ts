import path from "node:path";
import { parseArgs } from "node:util";

export type Scenario = "non-streaming" | "streaming";

export interface BenchOptions {
  connections: number[];
  durationSeconds: number;
  warmupSeconds: number;
  chunks: number;
  scenarios: Scenario[];
  /** Where to write the gateway's V8 CPU profile (covers its whole life), or null. */
  profileDir: string | null;
  /** With DATABASE_URL: pin the local PostgreSQL server to the load core, away from the gateway's. */
  databaseOnLoadCore: boolean;
  /** Gateway processes sharing the database and the load (more than one needs DATABASE_URL). */
  instances: number;
  /** The request log and metrics on, as production runs them (default), or off: what they cost, measured. */
  telemetry: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

Measures what Tollgate's /v1/chat/completions adds on top of a local mock upstream: throughput, latency,
time to first byte for streams, the gateway process's CPU time per request and its peak RSS.

Options:
  --connections LIST   Concurrency levels, comma-separated (default 1,16,64)
  --duration SECONDS   Length of each measured run (default 10)
  --warmup SECONDS     Length of the unmeasured run before each measured one (default 2; 0 to skip)
  --chunks N           Content chunks per streamed answer (default 20)
  --scenarios LIST     non-streaming,streaming (default both)
  --database-on-load-core
                       With DATABASE_URL on this machine: pin the PostgreSQL server (postmaster and backends) to
                       the load core with taskset for the run, so the gateway's core is its own, as with a database
                       on another machine; its CPUs are restored afterwards
  --instances N        With DATABASE_URL: run N gateway processes (default 1) on the gateway core, sharing the database,
                       the key and the load (the load generator's connections take them in turn), as several
                       instances behind a load balancer; CPU, memory and idle figures are their sums
  --telemetry on|off   The request log (LOG_LEVEL=info) and metrics (METRICS_TOKEN) on, as in production (default),
                       or off (LOG_LEVEL=warn, no metrics): run both to see what they cost
  --profile DIR        Write the gateway's CPU profile (.cpuprofile, for Chrome DevTools) into DIR; profiling
                       slows the gateway, so the figures of such a run are not comparable
  -h, --help           Show this help

Environment:
  DATABASE_URL         When set, the gateway runs on a fresh database created on that PostgreSQL server for this
                       run (and dropped afterwards); otherwise on embedded PGlite in a temporary directory.
  BALANCE_LEASES       Passed on to the gateway: false admits each call with its own hold statement on PostgreSQL
                       instead of balance leases (for comparison).`;

function positiveNumber(name: string, text: string, { integer }: { integer: boolean }): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name}: expected a ${integer ? "whole " : ""}number, not ${JSON.stringify(text)}`);
  }
  return value;
}

/** Parses the bench's command line; returns null when help was asked for. */
export function parseBenchOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      connections: { type: "string", default: "1,16,64" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      chunks: { type: "string", default: "20" },
      scenarios: { type: "string", default: "non-streaming,streaming" },
      profile: { type: "string" },
      "database-on-load-core": { type: "boolean", default: false },
      instances: { type: "string", default: "1" },
      telemetry: { type: "string", default: "on" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;

  const connections = values.connections.split(",").map((part) => {
    const value = positiveNumber("connections", part.trim(), { integer: true });
    if (value < 1 || value > 1024) throw new Error(`--connections: ${value} is outside 1..1024`);
    return value;
  });
  const durationSeconds = positiveNumber("duration", values.duration, { integer: false });
  if (durationSeconds < 1 || durationSeconds > 600) throw new Error("--duration: expected 1..600 seconds");
  const warmupSeconds = positiveNumber("warmup", values.warmup, { integer: false });
  if (warmupSeconds > 60) throw new Error("--warmup: expected 0..60 seconds");
  const chunks = positiveNumber("chunks", values.chunks, { integer: true });
  if (chunks < 1 || chunks > 10_000) throw new Error("--chunks: expected 1..10000");
  const scenarios = values.scenarios.split(",").map((part) => {
    const name = part.trim();
    if (name !== "non-streaming" && name !== "streaming") {
      throw new Error(`--scenarios: unknown scenario ${JSON.stringify(name)} (non-streaming, streaming)`);
    }
    return name;
  });
  const instances = positiveNumber("instances", values.instances, { integer: true });
  if (instances < 1 || instances > 8) throw new Error("--instances: expected 1..8");
  if (values.telemetry !== "on" && values.telemetry !== "off") throw new Error("--telemetry: expected on or off");
  return {
    connections: [...new Set(connections)],
    durationSeconds,
    warmupSeconds,
    chunks,
    scenarios: [...new Set(scenarios)],
    profileDir: values.profile === undefined || values.profile === "" ? null : path.resolve(values.profile),
    databaseOnLoadCore: values["database-on-load-core"],
    instances,
    telemetry: values.telemetry === "on",
  };
}
