/** One row of the report: the same scenario and concurrency, straight to the mock and through the gateway. */
import { measurementFailures, type Measurement } from "./measure";
import type { Scenario } from "./options";
import type { LatencySummary } from "./stats";

export interface ScenarioRow {
  scenario: Scenario;
  connections: number;
  direct: Measurement;
  gateway: Measurement;
}

export interface RowSummary {
  scenario: Scenario;
  connections: number;
  requestsPerSecondDirect: number;
  requestsPerSecondGateway: number;
  /** Gateway throughput as a share of direct throughput. */
  throughputRatio: number;
  latencyMsDirect: LatencySummary | null;
  latencyMsGateway: LatencySummary | null;
  addedLatencyP50Ms: number | null;
  ttfbMsDirect: LatencySummary | null;
  ttfbMsGateway: LatencySummary | null;
  addedTtfbP50Ms: number | null;
  ttfcMsDirect: LatencySummary | null;
  ttfcMsGateway: LatencySummary | null;
  addedTtfcP50Ms: number | null;
  gatewayCpuMicrosPerRequest: number | null;
  gatewayCoreBusy: number;
  gatewayPeakRssMb: number;
  loadCoreBusyDuringGatewayRun: number;
  failuresDirect: number;
  failuresGateway: number;
}

function difference(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined ? null : a - b;
}

export function summarizeRow(row: ScenarioRow): RowSummary {
  const { direct, gateway } = row;
  return {
    scenario: row.scenario,
    connections: row.connections,
    requestsPerSecondDirect: direct.load.requestsPerSecond,
    requestsPerSecondGateway: gateway.load.requestsPerSecond,
    throughputRatio:
      direct.load.requestsPerSecond > 0 ? gateway.load.requestsPerSecond / direct.load.requestsPerSecond : 0,
    latencyMsDirect: direct.load.latencyMs,
    latencyMsGateway: gateway.load.latencyMs,
    addedLatencyP50Ms: difference(gateway.load.latencyMs?.p50, direct.load.latencyMs?.p50),
    ttfbMsDirect: direct.load.ttfbMs,
    ttfbMsGateway: gateway.load.ttfbMs,
    addedTtfbP50Ms: difference(gateway.load.ttfbMs?.p50, direct.load.ttfbMs?.p50),
    ttfcMsDirect: direct.load.ttfcMs,
    ttfcMsGateway: gateway.load.ttfcMs,
    addedTtfcP50Ms: difference(gateway.load.ttfcMs?.p50, direct.load.ttfcMs?.p50),
    gatewayCpuMicrosPerRequest: gateway.serverCpuMicrosPerRequest,
    gatewayCoreBusy: gateway.serverCoreBusy,
    gatewayPeakRssMb: gateway.serverPeakRssBytes / (1024 * 1024),
    loadCoreBusyDuringGatewayRun: gateway.loadCoreBusy,
    failuresDirect: measurementFailures(direct),
    failuresGateway: measurementFailures(gateway),
  };
}
