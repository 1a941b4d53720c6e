/**
 * `npm run bench`: what Tollgate's /v1/chat/completions costs on top of an upstream. Starts a mock upstream and the
 * production entry (API only) as pinned child processes, provisions a user, key and channel through the CLI, then
 * drives non-streamed and streamed load straight at the mock and through the gateway, and reports throughput,
 * latency, TTFB, gateway CPU per request and peak RSS. Never part of `npm test`.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readEnv } from "~/env";
import { PRODUCTION_NODE_FLAGS } from "~/node-flags";
import { SERVER_ENTRY } from "~/scripts/server-build";
import { createBenchDatabase, redactUrl, type BenchDatabase } from "./bench-database";
import { canPin, type NodeChild } from "./children";
import { installCleanupHandlers, interruption, removeDirectoryOnCleanup, runCleanup } from "./cleanup";
import { measure, measurementFailures, type Measurement, type Route } from "./measure";
import { chatRequestBody, MOCK_API_KEY } from "./mock-bodies";
import { parseBenchOptions, USAGE, type BenchOptions } from "./options";
import { pinDatabaseServer } from "./pin-database";
import { probe } from "./probe";
import { readCpu, readPeakRssBytes, readRssBytes, sleep, waitUntilIdle } from "./process-stats";
import { provision } from "./provision";
import { printResults, renderWarnings } from "./report";
import { summarizeRow, type ScenarioRow } from "./summary";
import { checkTargets } from "./targets";
import {
  findFreePort,
  GATEWAY_CPU,
  gatewayEnvironment,
  LOAD_CPU,
  startGateway,
  startMockUpstream,
  type Gateway,
} from "./start-processes";

const EXPECT_IN_BODY = '"finish_reason":"stop"';

function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

function describeMeasurement(measurement: Measurement): string {
  const { load } = measurement;
  const parts = [
    `${load.requestsPerSecond.toFixed(0)} req/s`,
    `p50 ${load.latencyMs?.p50.toFixed(2) ?? "-"} ms`,
    `p99 ${load.latencyMs?.p99.toFixed(2) ?? "-"} ms`,
  ];
  if (load.ttfbMs !== null) parts.push(`TTFB p50 ${load.ttfbMs.p50.toFixed(2)} ms`);
  if (load.ttfcMs !== null) parts.push(`first content p50 ${load.ttfcMs.p50.toFixed(2)} ms`);
  if (measurement.route === "gateway")
    parts.push(`gateway CPU ${measurement.serverCpuMicrosPerRequest?.toFixed(0) ?? "-"} µs/req`);
  const failed = measurementFailures(measurement);
  if (failed > 0) parts.push(`!!! ${failed} FAILED`);
  return parts.join(", ");
}

/** The mock upstream and the gateway, so that a failure can say whether one of them died and what it said. */
const longLived: NodeChild[] = [];

/** The last words of any long-lived child that died under the bench. */
async function describeDeadChildren(): Promise<string> {
  const reports: string[] = [];
  for (const child of longLived) {
    // /proc may already lack the process while its "close" event is still on its way.
    if (!existsSync(`/proc/${child.pid}`)) await Promise.race([child.exited, sleep(2_000)]);
    const ended = child.endedHow();
    if (ended === null || child.stopRequested) continue;
    const graceful =
      child.name === "gateway" && ended === "exited with code 0"
        ? " (a clean exit: the production entry exits 0 only after SIGTERM/SIGINT, and the bench sent none)"
        : "";
    reports.push(
      `the ${child.name} (pid ${child.pid}) ${ended}${graceful} while the bench was running.\n` +
        `--- its stderr (last 40 lines) ---\n${child.stderr.tail(40)}\n--- its stdout (last 10 lines) ---\n${child.stdout.tail(10)}`,
    );
  }
  return reports.join("\n");
}

async function main(options: BenchOptions): Promise<void> {
  const serverUrl = readEnv().DATABASE_URL ?? null;
  const pin = canPin();
  const cpus = os.cpus().length;
  if (options.instances > 1 && serverUrl === null) {
    throw new Error("--instances above 1 needs DATABASE_URL: an embedded PGlite directory is opened by one process");
  }

  say("Tollgate bench");
  say(
    `  gateway: production entry (node ${PRODUCTION_NODE_FLAGS.join(" ")} ${SERVER_ENTRY}) with SERVE_DASHBOARD=false, NODE_ENV=production:`,
  );
  say("           the API alone, so no Next.js build is needed (the /v1 hot path never touches Next)");
  if (options.instances > 1) {
    say(
      `  instances: ${options.instances} gateway processes on the gateway core, one database, one key; the load's ` +
        "connections take them in turn; their CPU, memory and idle figures are summed",
    );
  }
  say(
    `  database: ${
      serverUrl === null
        ? "embedded PGlite in a temporary directory (on a thread of the gateway process: its CPU counts as the gateway's)"
        : `a fresh database on ${redactUrl(serverUrl)} (DATABASE_URL), dropped afterwards; the PostgreSQL server ` +
          (options.databaseOnLoadCore
            ? `is pinned to CPU ${LOAD_CPU} with the load (--database-on-load-core)`
            : "is not pinned") +
          " and its CPU is not counted"
    }`,
  );
  say(
    pin
      ? `  pinning: gateway on CPU ${GATEWAY_CPU}; mock upstream, load generator and CLI on CPU ${LOAD_CPU} (taskset; ${cpus} CPUs)`
      : "  pinning: taskset not found, processes are NOT pinned (numbers are less meaningful)",
  );
  if (pin && cpus < 2) say("  WARNING: fewer than 2 CPUs: the gateway and the load share a core");
  say(
    `  load: c=${options.connections.join(",")}, ${options.durationSeconds} s per run after a ${options.warmupSeconds} s warm-up; ` +
      `non-streaming via autocannon, streaming via an undici driver (TTFB = first body byte, TTFC = first content token); ${options.chunks} chunks per stream`,
  );
  say(`  node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  say(
    options.telemetry
      ? "  telemetry: request log (LOG_LEVEL=info) and metrics on, as in production"
      : "  telemetry: off (LOG_LEVEL=warn, no metrics)",
  );
  say();

  const workDir = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-"));
  removeDirectoryOnCleanup(workDir);
  mkdirSync(path.join(workDir, "data"));

  let database: BenchDatabase | null = null;
  if (serverUrl !== null) {
    database = await createBenchDatabase(serverUrl);
    progress(`created database ${database.name}`);
    if (options.databaseOnLoadCore) {
      const { postmaster } = await pinDatabaseServer(serverUrl, LOAD_CPU);
      progress(`PostgreSQL server (postmaster pid ${postmaster}) pinned to CPU ${LOAD_CPU}`);
    }
  }

  const mock = await startMockUpstream(options.chunks, pin);
  longLived.push(mock.child);
  progress(`mock upstream on ${mock.origin} (pid ${mock.child.pid}, CPUs ${mock.identity.cpusAllowed})`);

  // One environment (secrets included) for every instance and the CLI; only the port differs.
  const env = gatewayEnvironment({
    workDir,
    port: await findFreePort(),
    databaseUrl: database?.url ?? null,
    telemetry: options.telemetry,
  });
  const gateways: Gateway[] = [];
  for (let instance = 0; instance < options.instances; instance++) {
    const startedAt = performance.now();
    const port = instance === 0 ? env.PORT! : String(await findFreePort());
    // One after another: the first creates the admin account and seeds the catalog, the others find them.
    const gateway = await startGateway({ ...env, PORT: port }, pin, { profileDir: options.profileDir });
    longLived.push(gateway.child);
    gateways.push(gateway);
    progress(
      `gateway on ${gateway.origin} ${gateway.banner} in ${((performance.now() - startedAt) / 1000).toFixed(1)} s ` +
        `(pid ${gateway.child.pid} = ${path.basename(gateway.identity.executable)}, CPUs ${gateway.identity.cpusAllowed}, ${gateway.identity.threads} threads)`,
    );
  }
  const gatewayChildren = gateways.map((gateway) => gateway.child);
  if (options.profileDir !== null) {
    progress(`the gateway's CPU profile goes to ${options.profileDir} when it exits (profiled figures run slow)`);
  }

  const tenant = await provision({ env, mockOrigin: mock.origin, cpu: pin ? LOAD_CPU : null });
  progress(`provisioned through the CLI: ${tenant.log.join(" / ")}`);

  const urls: Record<Route, string[]> = {
    direct: [`${mock.origin}/v1/chat/completions`],
    gateway: gateways.map((gateway) => `${gateway.origin}/v1/chat/completions`),
  };
  const headers: Record<Route, Record<string, string>> = {
    direct: { "content-type": "application/json", authorization: `Bearer ${MOCK_API_KEY}` },
    gateway: { "content-type": "application/json", authorization: `Bearer ${tenant.apiKey}` },
  };
  for (const route of ["direct", "gateway"] as const) {
    for (const url of urls[route]) {
      const name = route === "direct" ? "the mock upstream" : `the gateway at ${url}`;
      await probe({ name, url, headers: headers[route] }, tenant.model, options.chunks);
    }
  }
  progress("probes passed: both routes answer correctly, plain and streamed");

  const sumOverGateways = (read: (pid: number) => number) =>
    gatewayChildren.reduce((sum, child) => sum + read(child.pid), 0);
  for (const child of gatewayChildren) await waitUntilIdle(child.pid);
  const idleBefore = sumOverGateways((pid) => readCpu(pid).ns);
  await sleep(1_000);
  const idleCpuMicrosPerSecond = (sumOverGateways((pid) => readCpu(pid).ns) - idleBefore) / 1000;
  const idleRssMb = sumOverGateways(readRssBytes) / (1024 * 1024);
  const startupPeakRssMb = sumOverGateways(readPeakRssBytes) / (1024 * 1024);

  const rows: ScenarioRow[] = [];
  for (const scenario of options.scenarios) {
    for (const connections of options.connections) {
      const measured = {} as Record<Route, Measurement>;
      for (const route of ["direct", "gateway"] as const) {
        const servers = route === "direct" ? [mock.child] : gatewayChildren;
        progress(
          `${scenario} c=${connections} ${route}: running ${options.warmupSeconds} s warm-up + ${options.durationSeconds} s…`,
        );
        measured[route] = await measure({
          scenario,
          route,
          load: {
            urls: urls[route],
            headers: headers[route],
            body: chatRequestBody(tenant.model, scenario === "streaming"),
            expectInBody: EXPECT_IN_BODY,
          },
          connections,
          durationSeconds: options.durationSeconds,
          warmupSeconds: options.warmupSeconds,
          servers,
          mock: mock.child,
          loadCpu: pin ? LOAD_CPU : null,
        });
        progress(`  ${describeMeasurement(measured[route])}`);
      }
      rows.push({ scenario, connections, direct: measured.direct, gateway: measured.gateway });
    }
  }

  const summaries = rows.map(summarizeRow);
  printResults(
    {
      createdAt: new Date().toISOString(),
      node: process.version,
      cpu: os.cpus()[0]?.model ?? null,
      cpus,
      pinned: pin,
      options,
      database:
        database === null
          ? { kind: "pglite" }
          : { kind: "postgres", server: redactUrl(serverUrl ?? ""), name: database.name },
      gateway: {
        pids: gatewayChildren.map((child) => child.pid),
        banner: gateways[0]!.banner,
        cpus: gateways[0]!.identity.cpusAllowed,
        idleCpuMicrosPerSecond,
        idleRssMb,
        startupPeakRssMb,
      },
      rows: summaries,
      targets: checkTargets(summaries, options.chunks),
      failures: rows.reduce((sum, row) => sum + measurementFailures(row.direct) + measurementFailures(row.gateway), 0),
      warnings: renderWarnings(rows),
      measurements: rows.flatMap((row) => [row.direct, row.gateway]),
    },
    options.scenarios,
    options.chunks,
    // Kept after the bench exits, unlike the working directory.
    mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-results-")),
  );
}

let options: BenchOptions | null;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
  process.exit(2);
}
if (options === null) {
  say(USAGE);
  process.exit(0);
}

installCleanupHandlers();
let exitCode = 0;
try {
  await main(options);
} catch (error) {
  // After Ctrl-C, children dying and workers failing are expected; the signal handler reports and exits.
  if (interruption() === null) {
    process.stderr.write(`\nbench FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    const dead = await describeDeadChildren();
    if (dead !== "") process.stderr.write(`\n!!! ${dead}\n`);
    exitCode = 1;
  }
}
await runCleanup();
process.exit(interruption() === null ? exitCode : 130);
