/** The bench's output: one table per scenario, warnings about the measurement, and the JSON results file. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { measurementFailures } from "./measure";
import type { Scenario } from "./options";
import type { RowSummary, ScenarioRow } from "./summary";
import { renderTargets, TARGET_CONNECTIONS, type TargetCheck } from "./targets";

// ---------------------------------------------------------------------------------------------------------------
// Text

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function signed(value: number | null, digits: number): string {
  return value === null ? "-" : `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
}

function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padStart(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

function targetCell(summary: RowSummary, targets: TargetCheck[]): string {
  if (summary.connections !== TARGET_CONNECTIONS) return "";
  const mine = targets.filter((target) => target.scenario === summary.scenario);
  if (mine.length === 0) return "";
  const passed = mine.filter((target) => target.result === "PASS").length;
  return passed === mine.length
    ? `${passed}/${mine.length} PASS`
    : `${passed}/${mine.length} PASS, ${mine.length - passed} MISS`;
}

function failureCell(summary: RowSummary): string {
  return summary.failuresDirect + summary.failuresGateway === 0
    ? "0"
    : `${summary.failuresDirect}/${summary.failuresGateway} !!`;
}

/** p99 latency added by the gateway: the tail a user's load sees, not only the median. */
function addedP99(summary: RowSummary): number | null {
  const { latencyMsGateway, latencyMsDirect } = summary;
  return latencyMsGateway === null || latencyMsDirect === null ? null : latencyMsGateway.p99 - latencyMsDirect.p99;
}

/** A column of a scenario table: its header and its cell for a row. */
type Column = [header: string, cell: (summary: RowSummary) => string];

/** Throughput, latency and what the gateway adds, the same in both tables; `unit` is "req" or "stream". */
function leadingColumns(unit: "req" | "stream", directP90: boolean): Column[] {
  return [
    ["c", (s) => String(s.connections)],
    [`${unit === "req" ? "req" : "streams"}/s direct`, (s) => fixed(s.requestsPerSecondDirect, 0)],
    [`${unit === "req" ? "req" : "streams"}/s gw`, (s) => fixed(s.requestsPerSecondGateway, 0)],
    ["gw/direct", (s) => fixed(s.throughputRatio, 2)],
    ["p50 direct", (s) => fixed(s.latencyMsDirect?.p50, 2)],
    ...(directP90 ? [["p90 direct", (s: RowSummary) => fixed(s.latencyMsDirect?.p90, 2)] as Column] : []),
    ["p99 direct", (s) => fixed(s.latencyMsDirect?.p99, 2)],
    ["p50 gw", (s) => fixed(s.latencyMsGateway?.p50, 2)],
    ["p90 gw", (s) => fixed(s.latencyMsGateway?.p90, 2)],
    ["p99 gw", (s) => fixed(s.latencyMsGateway?.p99, 2)],
    ["+p50", (s) => signed(s.addedLatencyP50Ms, 2)],
    ["+p99", (s) => signed(addedP99(s), 2)],
  ];
}

/** The gateway's cost and the run's health, the same in both tables. */
function trailingColumns(unit: "req" | "stream", targets: TargetCheck[]): Column[] {
  return [
    [`gw CPU µs/${unit}`, (s) => fixed(s.gatewayCpuMicrosPerRequest, 0)],
    ["gw core", (s) => percent(s.gatewayCoreBusy)],
    ["peak RSS MB", (s) => fixed(s.gatewayPeakRssMb, 0)],
    ["failures d/gw", failureCell],
    ["targets (c=16)", (s) => targetCell(s, targets)],
  ];
}

const STREAM_START_COLUMNS: Column[] = [
  ["TTFB p50 d", (s) => fixed(s.ttfbMsDirect?.p50, 2)],
  ["TTFB p50 gw", (s) => fixed(s.ttfbMsGateway?.p50, 2)],
  ["+TTFB p50", (s) => signed(s.addedTtfbP50Ms, 2)],
  ["TTFC p50 d", (s) => fixed(s.ttfcMsDirect?.p50, 2)],
  ["TTFC p99 d", (s) => fixed(s.ttfcMsDirect?.p99, 2)],
  ["TTFC p50 gw", (s) => fixed(s.ttfcMsGateway?.p50, 2)],
  ["TTFC p90 gw", (s) => fixed(s.ttfcMsGateway?.p90, 2)],
  ["TTFC p99 gw", (s) => fixed(s.ttfcMsGateway?.p99, 2)],
  ["+TTFC p50", (s) => signed(s.addedTtfcP50Ms, 2)],
];

export function renderScenarioTable(scenario: Scenario, summaries: RowSummary[], targets: TargetCheck[]): string {
  const rows = summaries.filter((summary) => summary.scenario === scenario);
  const columns =
    scenario === "non-streaming"
      ? [...leadingColumns("req", true), ...trailingColumns("req", targets)]
      : [...leadingColumns("stream", false), ...STREAM_START_COLUMNS, ...trailingColumns("stream", targets)];
  return renderTable(
    columns.map(([header]) => header),
    rows.map((summary) => columns.map(([, cell]) => cell(summary))),
  );
}

/** Warnings about the measurement itself: errors, a saturated load core, slow drains. */
export function renderWarnings(rows: ScenarioRow[]): string[] {
  const warnings: string[] = [];
  for (const row of rows) {
    for (const measurement of [row.direct, row.gateway]) {
      const label = `${row.scenario} c=${row.connections} ${measurement.route}`;
      const { load } = measurement;
      const failed = measurementFailures(measurement);
      if (failed > 0) {
        warnings.push(
          `!!! ${label}: ${failed} FAILED requests (non-2xx ${load.non2xx}, bad bodies ${load.badBodies}, errors ${load.errors}; ` +
            `status codes ${JSON.stringify(load.statusCodes)})${load.errorSamples.length > 0 ? `\n      e.g. ${load.errorSamples.join("\n      e.g. ")}` : ""}`,
        );
      }
      if (measurement.warmup !== null && measurement.warmup.failures > 0) {
        warnings.push(`!!! ${label}: ${measurement.warmup.failures} failed requests during the warm-up`);
      }
      if (measurement.route === "gateway" && measurement.serverLogLineCount > measurement.serverAbortLogLines) {
        warnings.push(
          `!!! ${label}: the gateway logged ${measurement.serverLogLineCount - measurement.serverAbortLogLines} warning/error lines, e.g.` +
            `\n      ${measurement.serverLogLines.slice(0, 3).join("\n      ")}`,
        );
      }
      if (measurement.route === "gateway" && measurement.serverAbortLogLines > 0) {
        warnings.push(
          `note: ${label}: the gateway logged ${measurement.serverAbortLogLines} aborted upstream calls ` +
            "(requests in flight when the load generator closed its connections at the end of a run)",
        );
      }
      if (measurement.route === "gateway" && measurement.loadCoreBusy > 0.9) {
        warnings.push(
          `note: ${label}: the load core (mock upstream + load generator) was ${percent(measurement.loadCoreBusy)} busy; ` +
            "gateway throughput here is bounded by the load side, not by the gateway",
        );
      }
      const stolen = Math.max(0, ...measurement.stealByCpu.map((value) => value ?? 0));
      if (stolen > 0.05) {
        warnings.push(
          `note: ${label}: the hypervisor stole ${percent(stolen)} of a CPU's time during the run; expect noise`,
        );
      }
      if (measurement.drainMs > 2_000) {
        warnings.push(
          `note: ${label}: the server took ${(measurement.drainMs / 1000).toFixed(1)} s to go idle after the load stopped`,
        );
      }
    }
  }
  return warnings;
}

export interface BenchResults {
  createdAt: string;
  node: string;
  cpu: string | null;
  cpus: number;
  pinned: boolean;
  options: unknown;
  database: { kind: "pglite" } | { kind: "postgres"; server: string; name: string };
  gateway: {
    /** One per instance; the idle and memory figures are their sums. */
    pids: number[];
    banner: string;
    cpus: string;
    idleCpuMicrosPerSecond: number;
    /** VmRSS after start-up, idle, before any load. */
    idleRssMb: number;
    /** VmHWM at that point: what start-up (migrations, a new database) used at most. */
    startupPeakRssMb: number;
  };
  rows: RowSummary[];
  targets: TargetCheck[];
  /** Failed requests over all measured runs. */
  failures: number;
  warnings: string[];
  measurements: unknown[];
}

/** Prints the tables, targets, warnings and JSON to stdout and writes the JSON to `directory`; returns its path. */
export function printResults(results: BenchResults, scenarios: Scenario[], chunks: number, directory: string): string {
  const say = (line = "") => process.stdout.write(`${line}\n`);
  const { gateway, rows, targets, warnings, failures } = results;
  say(
    `Gateway idle${gateway.pids.length > 1 ? ` (${gateway.pids.length} instances, summed)` : ""}: ` +
      `${gateway.idleCpuMicrosPerSecond.toFixed(0)} µs CPU per second; idle RSS ${gateway.idleRssMb.toFixed(0)} MB ` +
      `before load (start-up peak ${gateway.startupPeakRssMb.toFixed(0)} MB).`,
  );
  say(
    "Latencies in ms; +p50/+p99 = latency added by the gateway at that percentile; TTFC = time to the first content " +
      "token (a delta with text; a role-only first chunk does not count); gw core = gateway CPU as a share of its core;",
  );
  say(
    "gateway CPU per request = its CPU time (all threads, /proc schedstat) over the run / responses; peak RSS = VmHWM.",
  );
  for (const scenario of scenarios) {
    say();
    say(
      scenario === "non-streaming"
        ? "Non-streaming (POST /v1/chat/completions)"
        : `Streaming (stream: true, ${chunks} content chunks)`,
    );
    say(renderScenarioTable(scenario, rows, targets));
  }
  say();
  say(renderTargets(targets));
  if (warnings.length > 0) {
    say();
    for (const warning of warnings) say(warning);
  }
  if (failures > 0) {
    say();
    say(
      `!!! ${failures} REQUESTS FAILED during measured runs: the numbers above are not trustworthy. See the lines above.`,
    );
  }
  const json = JSON.stringify(results, null, 2);
  const file = path.join(directory, "bench-results.json");
  writeFileSync(file, `${json}\n`);
  say();
  say(json);
  say();
  say(`Results written to ${file}`);
  return file;
}
