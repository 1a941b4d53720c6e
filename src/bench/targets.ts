/** The issue's performance targets, checked on the c=16 rows. */
import type { Scenario } from "./options";
import type { RowSummary } from "./summary";

export interface TargetCheck {
  scenario: Scenario;
  connections: number;
  name: string;
  comparison: "<=" | ">=";
  limit: number;
  unit: string;
  measured: number | null;
  result: "PASS" | "MISS" | "NOT MEASURED";
  note?: string;
}

export const TARGET_CONNECTIONS = 16;
const TARGET_STREAM_CHUNKS = 20;

function check(
  summary: RowSummary | undefined,
  scenario: Scenario,
  name: string,
  comparison: "<=" | ">=",
  limit: number,
  unit: string,
  pick: (summary: RowSummary) => number | null,
  note?: string,
): TargetCheck {
  const measured = summary === undefined ? null : pick(summary);
  const result =
    measured === null
      ? "NOT MEASURED"
      : (comparison === "<=" ? measured <= limit : measured >= limit)
        ? "PASS"
        : "MISS";
  return {
    scenario,
    connections: TARGET_CONNECTIONS,
    name,
    comparison,
    limit,
    unit,
    measured,
    result,
    ...(note ? { note } : {}),
  };
}

/** The issue's targets, checked on the c=16 rows. Informational: a MISS does not fail the bench. */
export function checkTargets(summaries: RowSummary[], chunks: number): TargetCheck[] {
  const at = (scenario: Scenario) =>
    summaries.find((summary) => summary.scenario === scenario && summary.connections === TARGET_CONNECTIONS);
  const plain = at("non-streaming");
  const streamed = at("streaming");
  const chunkNote =
    chunks === TARGET_STREAM_CHUNKS
      ? undefined
      : `measured with ${chunks} chunks; the target is for ${TARGET_STREAM_CHUNKS}`;
  const targets: TargetCheck[] = [];
  if (summaries.some((summary) => summary.scenario === "non-streaming")) {
    targets.push(
      check(plain, "non-streaming", "gateway CPU per request", "<=", 350, "µs", (s) => s.gatewayCpuMicrosPerRequest),
      check(plain, "non-streaming", "throughput via gateway", ">=", 2000, "req/s", (s) => s.requestsPerSecondGateway),
      check(plain, "non-streaming", "p50 latency added", "<=", 2, "ms", (s) => s.addedLatencyP50Ms),
    );
  }
  if (summaries.some((summary) => summary.scenario === "streaming")) {
    targets.push(
      check(streamed, "streaming", "p50 TTFB added", "<=", 2, "ms", (s) => s.addedTtfbP50Ms, chunkNote),
      check(
        streamed,
        "streaming",
        "gateway CPU per stream",
        "<=",
        2500,
        "µs",
        (s) => s.gatewayCpuMicrosPerRequest,
        chunkNote,
      ),
    );
  }
  return targets;
}

export function renderTargets(targets: TargetCheck[]): string {
  if (targets.length === 0) return "";
  const lines = targets.map((target) => {
    const measured =
      target.measured === null
        ? "not measured"
        : `${target.measured.toFixed(target.unit === "req/s" || target.unit === "µs" ? 0 : 2)} ${target.unit}`;
    const note = target.note === undefined ? "" : `  (${target.note})`;
    return `  ${target.result.padEnd(12)} ${`${target.scenario}: ${target.name}`.padEnd(46)} ${measured.padStart(14)}  target ${target.comparison} ${target.limit} ${target.unit}${note}`;
  });
  return [`Targets at c=${TARGET_CONNECTIONS} (informational; the bench does not fail on a MISS):`, ...lines].join(
    "\n",
  );
}
