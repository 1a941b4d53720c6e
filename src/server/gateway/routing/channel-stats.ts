import type { Clock } from "../clock";

/**
 * Live statistics per channel and upstream model, in one-minute buckets: how often calls succeed, fail for the
 * provider's reasons (down, overloaded, timed out, refused key, stream died) or fail for the request's, and how fast
 * the successful ones were. Rolling windows (5 min, 30 min, 1 day) are sums of buckets. Durations and speeds are
 * counted in logarithmic histograms, so percentiles are estimates within one bin (±12 %) at a fixed memory cost.
 */

/** How a finished attempt ends up in the statistics. A client that left counts for nothing. */
export type AttemptOutcome = "success" | "provider_error" | "request_error";

export interface AttemptSample {
  outcome: AttemptOutcome;
  /** Successes only: from sending the request to the last byte. */
  latencyMs?: number;
  /** Streamed successes only: from sending the request to the first chunk of the answer. */
  firstTokenMs?: number;
  /** Successes only: tokens generated. */
  outputTokens?: number;
  /** Successes only: tokens generated per second of generation (unset when it was too short to measure). */
  tokensPerSecond?: number;
}

/**
 * How a failed call counts: against the request (a 4xx about what was asked) or against the provider (anything else:
 * no connection, timeouts, 408, 429, 5xx, and 401/402/403, which are about the channel's account).
 */
export function failureOutcome(status: number | null): AttemptOutcome {
  const aboutTheRequest =
    status !== null && status >= 400 && status < 500 && ![401, 402, 403, 408, 429].includes(status);
  return aboutTheRequest ? "request_error" : "provider_error";
}

export const HISTOGRAM_BINS = 64;
const BIN_GROWTH = 1.25;
const LOG_GROWTH = Math.log(BIN_GROWTH);

/** Bin 0 holds values up to 1; bin i ≥ 1 holds (1.25^(i-1), 1.25^i]; the last bin holds everything above. */
export function histogramBin(value: number): number {
  if (!(value > 1)) return 0;
  return Math.min(HISTOGRAM_BINS - 1, Math.ceil(Math.log(value) / LOG_GROWTH - 1e-9));
}

/** The value a bin stands for: the geometric middle of its bounds. */
function binValue(bin: number): number {
  return bin === 0 ? 1 : BIN_GROWTH ** (bin - 0.5);
}

/** The counts of one channel+model minute; also the shape persisted per row. */
export interface MinuteCounts {
  successes: number;
  providerErrors: number;
  requestErrors: number;
  outputTokens: number;
  latency: number[];
  firstToken: number[];
  throughput: number[];
}

export function emptyCounts(): MinuteCounts {
  return {
    successes: 0,
    providerErrors: 0,
    requestErrors: 0,
    outputTokens: 0,
    latency: new Array<number>(HISTOGRAM_BINS).fill(0),
    firstToken: new Array<number>(HISTOGRAM_BINS).fill(0),
    throughput: new Array<number>(HISTOGRAM_BINS).fill(0),
  };
}

function addCounts(target: MinuteCounts, source: MinuteCounts): void {
  target.successes += source.successes;
  target.providerErrors += source.providerErrors;
  target.requestErrors += source.requestErrors;
  target.outputTokens += source.outputTokens;
}

function addHistograms(target: MinuteCounts, source: MinuteCounts): void {
  // Minutes past the percentile window have no histograms left, on either side.
  if (target.latency.length === 0 || source.latency.length === 0) return;
  for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
    target.latency[bin]! += source.latency[bin] ?? 0;
    target.firstToken[bin]! += source.firstToken[bin] ?? 0;
    target.throughput[bin]! += source.throughput[bin] ?? 0;
  }
}

function addInto(target: MinuteCounts, source: MinuteCounts): void {
  addCounts(target, source);
  addHistograms(target, source);
}

const isEmpty = (counts: MinuteCounts) =>
  counts.successes === 0 && counts.providerErrors === 0 && counts.requestErrors === 0;

export interface Percentiles {
  p50: number;
  p75: number;
  p90: number;
  p99: number;
}

/** The value below which `quantile` of a histogram's samples lie (to its bin's precision); null when it is empty. */
export function histogramQuantile(histogram: readonly number[], quantile: number): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(quantile * total));
  let seen = 0;
  for (let bin = 0; bin < histogram.length; bin++) {
    seen += histogram[bin]!;
    if (seen >= rank) return binValue(bin);
  }
  return binValue(histogram.length - 1);
}

function percentiles(histogram: readonly number[]): Percentiles | null {
  const p50 = histogramQuantile(histogram, 0.5);
  if (p50 === null) return null;
  return {
    p50,
    p75: histogramQuantile(histogram, 0.75)!,
    p90: histogramQuantile(histogram, 0.9)!,
    p99: histogramQuantile(histogram, 0.99)!,
  };
}

export interface WindowStats {
  requests: number;
  successes: number;
  providerErrors: number;
  requestErrors: number;
  /** Share of calls that did not fail for the provider's reasons, 0–1; null without calls. */
  uptime: number | null;
  /** Share of calls that failed for any reason, 0–1; null without calls. */
  errorRate: number | null;
}

export interface EndpointStats {
  last5m: WindowStats;
  last30m: WindowStats;
  last1d: WindowStats;
  /** Over the last 30 minutes, successful calls only. Milliseconds. */
  latencyMs: Percentiles | null;
  firstTokenMs: Percentiles | null;
  /** Output tokens per second. */
  tokensPerSecond: Percentiles | null;
}

export const MINUTE_MS = 60_000;
const WINDOWS = { last5m: 5, last30m: 30, last1d: 1440 } as const;
/** Percentiles cover this many minutes; older buckets keep only their counts. */
const PERCENTILE_MINUTES = WINDOWS.last30m;
const RETAINED_MINUTES = WINDOWS.last1d;

/** One minute of one channel+model: what other processes and earlier flushes stored, plus what is not yet flushed. */
interface Bucket {
  minute: number;
  persisted: MinuteCounts | null;
  local: MinuteCounts | null;
}

/** Statistics for a set of minutes, e.g. rows read back from the database. */
export function summarise(buckets: readonly { minute: number; counts: MinuteCounts }[], now: number): EndpointStats {
  const currentMinute = Math.floor(now / MINUTE_MS);
  const windowTotals = { last5m: emptyCounts(), last30m: emptyCounts(), last1d: emptyCounts() };
  for (const { minute, counts } of buckets) {
    const age = currentMinute - Math.floor(minute / MINUTE_MS);
    if (age < 0 || age >= WINDOWS.last1d) continue;
    addCounts(windowTotals.last1d, counts);
    if (age >= WINDOWS.last30m) continue;
    // Percentiles come from the 30-minute window only: its histograms are the only ones summed.
    addInto(windowTotals.last30m, counts);
    if (age < WINDOWS.last5m) addCounts(windowTotals.last5m, counts);
  }
  const windowStats = (counts: MinuteCounts): WindowStats => {
    const requests = counts.successes + counts.providerErrors + counts.requestErrors;
    return {
      requests,
      successes: counts.successes,
      providerErrors: counts.providerErrors,
      requestErrors: counts.requestErrors,
      uptime: requests === 0 ? null : 1 - counts.providerErrors / requests,
      errorRate: requests === 0 ? null : (counts.providerErrors + counts.requestErrors) / requests,
    };
  };
  const recent = windowTotals.last30m;
  return {
    last5m: windowStats(windowTotals.last5m),
    last30m: windowStats(recent),
    last1d: windowStats(windowTotals.last1d),
    latencyMs: percentiles(recent.latency),
    firstTokenMs: percentiles(recent.firstToken),
    tokensPerSecond: percentiles(recent.throughput),
  };
}

/** Unflushed counts of one channel+model minute, for persistence. */
export interface MinuteDelta {
  channelId: string;
  upstreamModel: string;
  /** Start of the minute, epoch milliseconds. */
  minute: number;
  counts: MinuteCounts;
}

export interface ChannelStats {
  record(channelId: string, upstreamModel: string, sample: AttemptSample): void;
  /** The rolling statistics of one channel+model now (cached for a second: sorting asks on every call). */
  get(channelId: string, upstreamModel: string): EndpointStats;
  /** Hands over (and forgets) everything recorded since the last call, for the database. */
  takeUnflushed(): MinuteDelta[];
  /** Totals read back from the database (every process's flushes summed) replace the minute's persisted counts. */
  applyPersisted(rows: readonly MinuteDelta[]): void;
}

const SNAPSHOT_TTL_MS = 1_000;

export function createChannelStats(clock: Clock): ChannelStats {
  const series = new Map<string, { channelId: string; upstreamModel: string; buckets: Map<number, Bucket> }>();
  const snapshots = new Map<string, { at: number; stats: EndpointStats }>();
  let lastPrunedMinute = 0;

  const keyOf = (channelId: string, upstreamModel: string) => `${channelId}\u0000${upstreamModel}`;
  const seriesOf = (channelId: string, upstreamModel: string) => {
    const key = keyOf(channelId, upstreamModel);
    let found = series.get(key);
    if (found === undefined) {
      found = { channelId, upstreamModel, buckets: new Map() };
      series.set(key, found);
    }
    return found;
  };
  const bucketOf = (buckets: Map<number, Bucket>, minute: number) => {
    let bucket = buckets.get(minute);
    if (bucket === undefined) {
      bucket = { minute, persisted: null, local: null };
      buckets.set(minute, bucket);
    }
    return bucket;
  };

  /** Drops minutes older than a day, and the histograms of minutes older than the percentile window. */
  function prune(currentMinute: number): void {
    if (currentMinute === lastPrunedMinute) return;
    lastPrunedMinute = currentMinute;
    for (const [key, { buckets }] of series) {
      for (const [minute, bucket] of buckets) {
        const age = currentMinute - minute / MINUTE_MS;
        if (age >= RETAINED_MINUTES && bucket.local === null) buckets.delete(minute);
        else if (age >= PERCENTILE_MINUTES) {
          for (const counts of [bucket.persisted, bucket.local]) {
            if (counts !== null && counts.latency.length > 0) {
              counts.latency = [];
              counts.firstToken = [];
              counts.throughput = [];
            }
          }
        }
      }
      if (buckets.size === 0) series.delete(key);
    }
  }

  return {
    record(channelId, upstreamModel, sample) {
      const now = clock();
      const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
      prune(minute / MINUTE_MS);
      const bucket = bucketOf(seriesOf(channelId, upstreamModel).buckets, minute);
      const counts = (bucket.local ??= emptyCounts());
      if (sample.outcome === "provider_error") counts.providerErrors++;
      else if (sample.outcome === "request_error") counts.requestErrors++;
      else {
        counts.successes++;
        counts.outputTokens += sample.outputTokens ?? 0;
        if (sample.latencyMs !== undefined) counts.latency[histogramBin(sample.latencyMs)]!++;
        if (sample.firstTokenMs !== undefined) counts.firstToken[histogramBin(sample.firstTokenMs)]!++;
        if (sample.tokensPerSecond !== undefined) counts.throughput[histogramBin(sample.tokensPerSecond)]!++;
      }
    },

    get(channelId, upstreamModel) {
      const now = clock();
      const key = keyOf(channelId, upstreamModel);
      const cached = snapshots.get(key);
      if (cached !== undefined && now - cached.at < SNAPSHOT_TTL_MS && now >= cached.at) return cached.stats;
      prune(Math.floor(now / MINUTE_MS));
      const buckets = series.get(key)?.buckets;
      // A minute's stored and unflushed counts go in as two entries: summing them is what summarise does anyway.
      const minutes: { minute: number; counts: MinuteCounts }[] = [];
      for (const bucket of buckets?.values() ?? []) {
        if (bucket.persisted !== null) minutes.push({ minute: bucket.minute, counts: bucket.persisted });
        if (bucket.local !== null) minutes.push({ minute: bucket.minute, counts: bucket.local });
      }
      const stats = summarise(minutes, now);
      snapshots.set(key, { at: now, stats });
      return stats;
    },

    takeUnflushed() {
      const deltas: MinuteDelta[] = [];
      for (const { channelId, upstreamModel, buckets } of series.values()) {
        for (const bucket of buckets.values()) {
          if (bucket.local === null) continue;
          if (!isEmpty(bucket.local)) {
            deltas.push({ channelId, upstreamModel, minute: bucket.minute, counts: bucket.local });
            // Until the database's total for this minute is read back, the flushed counts stand in for it.
            bucket.persisted ??= emptyCounts();
            addInto(bucket.persisted, bucket.local);
          }
          bucket.local = null;
        }
      }
      return deltas;
    },

    applyPersisted(rows) {
      const currentMinute = Math.floor(clock() / MINUTE_MS);
      for (const row of rows) {
        if (currentMinute - row.minute / MINUTE_MS >= RETAINED_MINUTES) continue;
        bucketOf(seriesOf(row.channelId, row.upstreamModel).buckets, row.minute).persisted = row.counts;
      }
      snapshots.clear();
    },
  };
}
