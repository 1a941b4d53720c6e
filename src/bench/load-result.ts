import type { LatencySummary } from "./stats";

/** What a load worker is told, as JSON in its first argument. */
export interface LoadConfig {
  /** One URL per server; connections take them in turn (several gateway instances share the load evenly). */
  urls: string[];
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationSeconds: number;
  /** A substring every good response body contains. */
  expectInBody: string;
}

/** What a load worker prints, as one JSON line on stdout. */
export interface LoadResult {
  driver: "autocannon" | "undici-stream";
  urls: string[];
  connections: number;
  /** Wall time of the run in seconds. */
  durationSeconds: number;
  /** Responses received, whatever their status. */
  responses: number;
  /** 2xx responses whose body passed the check. */
  ok: number;
  non2xx: number;
  /** 2xx responses whose body failed the check (for streams: no [DONE], or an error event). */
  badBodies: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  /** Good responses per second. */
  requestsPerSecond: number;
  /** Total latency of good responses, ms. */
  latencyMs: LatencySummary | null;
  /** Time to the first body byte of good responses, ms (streaming driver only). */
  ttfbMs: LatencySummary | null;
  /**
   * Time to the first content token of good responses, ms (streaming driver only): the first chunk whose delta carries
   * text. A role-only first chunk is a byte, not an answer.
   */
  ttfcMs: LatencySummary | null;
  /** CPU time the worker itself used during the run, ms. */
  workerCpuMs: number;
  /** A few of the errors seen, for the report. */
  errorSamples: string[];
}

export const MAX_ERROR_SAMPLES = 5;

export function readLoadConfig(argv: readonly string[]): LoadConfig {
  const text = argv[2];
  if (text === undefined) throw new Error("usage: load-*.ts '<LoadConfig JSON>'");
  return JSON.parse(text) as LoadConfig;
}
