/** One measured run: a warm-up, then load from a pinned worker while the target's CPU time is sampled. */
import { runNode, type NodeChild } from "./children";
import type { LoadConfig, LoadResult } from "./load-result";
import type { Scenario } from "./options";
import { readCpu, readCpuTimes, readPeakRssBytes, stealFraction, waitUntilIdle, type CpuSample } from "./process-stats";

export type { Scenario };

export type Route = "direct" | "gateway";

export interface MeasureInput {
  scenario: Scenario;
  route: Route;
  load: Omit<LoadConfig, "durationSeconds" | "connections">;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /**
   * The processes whose CPU and memory are measured, summed: the gateway (each of its instances), or the mock upstream
   * for direct runs.
   */
  servers: NodeChild[];
  /** The mock upstream, whose CPU shows how busy the load core was. */
  mock: NodeChild;
  loadCpu: number | null;
}

export interface Measurement {
  scenario: Scenario;
  route: Route;
  connections: number;
  load: LoadResult;
  /** CPU time of `servers` during the run (plus the short drain after it), ns. */
  serverCpuNs: number;
  serverCpuSource: "schedstat" | "stat";
  /** Same window from utime + stime, for cross-checking. */
  serverCpuStatNs: number;
  serverCpuMicrosPerRequest: number | null;
  /** Share of one core the server used during the run. */
  serverCoreBusy: number;
  /** The servers' peak RSS, summed. */
  serverPeakRssBytes: number;
  /** Mock upstream + load worker CPU over the run, as a share of one core (both share the load core). */
  loadCoreBusy: number;
  /** How long the server needed to go idle after the load stopped (deferred work such as batched writes). */
  drainMs: number;
  /** Share of CPU 0 and CPU 1 time the hypervisor stole during the run (null where unknown). */
  stealByCpu: (number | null)[];
  warmup: { ok: number; failures: number } | null;
  /** Warnings and errors the server logged during the warm-up and the run, other than aborted calls (up to 10). */
  serverLogLines: string[];
  /** Logged cancellations of calls the load generator abandoned when a run ended. */
  serverAbortLogLines: number;
  serverLogLineCount: number;
}

const WORKER_SCRIPT: Record<Scenario, string> = {
  "non-streaming": "src/bench/load-autocannon.ts",
  streaming: "src/bench/load-stream.ts",
};

async function runWorker(input: MeasureInput, durationSeconds: number): Promise<LoadResult> {
  const config: LoadConfig = { ...input.load, connections: input.connections, durationSeconds };
  const result = await runNode({
    name: `${input.scenario} load (${input.route}, c=${input.connections})`,
    script: WORKER_SCRIPT[input.scenario],
    args: [JSON.stringify(config)],
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production" },
    cpu: input.loadCpu,
    timeoutMs: (durationSeconds + 60) * 1000,
  });
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  if (result.exitCode !== 0 || !last.startsWith("{")) {
    throw new Error(
      `load worker failed (exit ${result.exitCode}${result.timedOut ? ", killed after its time limit" : ""}):\n${result.stderr.slice(-2000)}`,
    );
  }
  return JSON.parse(last) as LoadResult;
}

function failures(load: LoadResult): number {
  return load.non2xx + load.badBodies + load.errors;
}

/** A request still in flight when the load generator hung up: the gateway cancels its upstream call and logs it. */
function isAbortAtRunEnd(line: string): boolean {
  try {
    const entry = JSON.parse(line) as { error?: { name?: unknown } };
    return entry.error?.name === "AbortError";
  } catch {
    return false;
  }
}

interface LogLines {
  /** Up to 10 lines other than aborted calls. */
  unexpected: string[];
  aborts: number;
  count: number;
}

/** The request log's line per call (start-processes.ts runs the gateway with it on): expected, not a warning. */
function isRequestLine(line: string): boolean {
  return line.includes('"message":"request"');
}

/** What `children` log besides the request log (warnings and errors) while `during` runs. */
async function collectLogLines<T>(
  children: NodeChild[],
  during: () => Promise<T>,
): Promise<{ value: T; logs: LogLines }> {
  const logs: LogLines = { unexpected: [], aborts: 0, count: 0 };
  const unwatchers = children.map((child) =>
    child.stderr.watch((line) => {
      if (isRequestLine(line)) return;
      logs.count++;
      if (isAbortAtRunEnd(line)) logs.aborts++;
      else if (logs.unexpected.length < 10) logs.unexpected.push(line.slice(0, 500));
    }),
  );
  try {
    return { value: await during(), logs };
  } finally {
    for (const unwatch of unwatchers) unwatch();
  }
}

/** CPU time of all the processes, summed; the source is schedstat only when every one of them had it. */
function readCpuOfAll(children: NodeChild[]): CpuSample {
  const samples = children.map((child) => readCpu(child.pid));
  return {
    ns: samples.reduce((sum, sample) => sum + sample.ns, 0),
    statNs: samples.reduce((sum, sample) => sum + sample.statNs, 0),
    source: samples.every((sample) => sample.source === "schedstat") ? "schedstat" : "stat",
  };
}

/** Waits until every process is idle; resolves with the longest wait, ms. */
async function waitUntilAllIdle(children: NodeChild[]): Promise<number> {
  let longest = 0;
  for (const child of children) longest = Math.max(longest, await waitUntilIdle(child.pid));
  return longest;
}

export async function measure(input: MeasureInput): Promise<Measurement> {
  const { servers, mock } = input;
  const { value, logs } = await collectLogLines(servers, async () => {
    let warmup: Measurement["warmup"] = null;
    if (input.warmupSeconds > 0) {
      const result = await runWorker(input, input.warmupSeconds);
      warmup = { ok: result.ok, failures: failures(result) };
    }
    await waitUntilAllIdle(servers);
    const serverBefore = readCpuOfAll(servers);
    const mockBefore = readCpu(mock.pid).ns;
    const cpuTimesBefore = readCpuTimes();
    const load = await runWorker(input, input.durationSeconds);
    const cpuTimesAfter = readCpuTimes();
    const drainMs = await waitUntilAllIdle(servers);
    const serverAfter = readCpuOfAll(servers);
    const mockAfter = readCpu(mock.pid).ns;
    const steal = [0, 1].map((cpu) => stealFraction(cpuTimesBefore, cpuTimesAfter, cpu));
    return { warmup, load, drainMs, serverBefore, serverAfter, mockNs: mockAfter - mockBefore, steal };
  });
  const { load, serverBefore, serverAfter } = value;
  const serverCpuNs = serverAfter.ns - serverBefore.ns;
  const mockNs = value.mockNs;
  return {
    scenario: input.scenario,
    route: input.route,
    connections: input.connections,
    load,
    serverCpuNs,
    serverCpuSource: serverAfter.source,
    serverCpuStatNs: serverAfter.statNs - serverBefore.statNs,
    serverCpuMicrosPerRequest: load.responses > 0 ? serverCpuNs / 1000 / load.responses : null,
    serverCoreBusy: serverCpuNs / (load.durationSeconds * 1e9),
    serverPeakRssBytes: servers.reduce((sum, child) => sum + readPeakRssBytes(child.pid), 0),
    // The mock idles while the worker starts, so both are set against the run itself.
    loadCoreBusy: (mockNs + load.workerCpuMs * 1e6) / (load.durationSeconds * 1e9),
    drainMs: value.drainMs,
    stealByCpu: value.steal,
    warmup: value.warmup,
    serverLogLines: logs.unexpected,
    serverAbortLogLines: logs.aborts,
    serverLogLineCount: logs.count,
  };
}

export function measurementFailures(measurement: Measurement): number {
  return failures(measurement.load);
}
