import { and, eq, gte, or } from "drizzle-orm";
import type { Database } from "~/server/db";
import { channelStatMinutes } from "~/server/db/schema";
import { HISTOGRAM_BINS, histogramQuantile, MINUTE_MS } from "~/server/gateway/routing/channel-stats";

/*
 * A model endpoint's last 24 hours, hour by hour, for the chart on a public model page: read from the per-minute
 * statistics every process persists (so every instance shows the same history), summed per hour.
 */

const HOUR_MS = 60 * MINUTE_MS;
export const HISTORY_HOURS = 24;

export interface EndpointHour {
  /** Start of the hour, epoch milliseconds. */
  hour: number;
  requests: number;
  /** Percent of the hour's calls that did not fail for the provider's reasons; null without calls. */
  uptimePercent: number | null;
  /** Median time to the first token, milliseconds; null without successful calls. */
  firstTokenP50Ms: number | null;
  /** Median output tokens per second; null without successful calls. */
  throughputP50: number | null;
}

export interface EndpointRef {
  channelId: string;
  upstreamModel: string;
}

/** How `readEndpointHistory` keys its answer. */
export const endpointHistoryKey = (endpoint: EndpointRef) => `${endpoint.channelId} ${endpoint.upstreamModel}`;

interface HourTotals {
  successes: number;
  providerErrors: number;
  requestErrors: number;
  firstToken: number[];
  throughput: number[];
}

function emptyHour(): HourTotals {
  return {
    successes: 0,
    providerErrors: 0,
    requestErrors: 0,
    firstToken: new Array<number>(HISTOGRAM_BINS).fill(0),
    throughput: new Array<number>(HISTOGRAM_BINS).fill(0),
  };
}

function addHistogram(target: number[], source: readonly number[]): void {
  for (let bin = 0; bin < HISTOGRAM_BINS; bin++) target[bin]! += source[bin] ?? 0;
}

/**
 * The last `HISTORY_HOURS` whole and current hours of each endpoint, oldest first, one entry per hour (an hour
 * without calls has zero requests and null figures), keyed by `channelId upstreamModel`.
 */
export async function readEndpointHistory(
  db: Database,
  endpoints: readonly EndpointRef[],
  now: number,
): Promise<Map<string, EndpointHour[]>> {
  const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const firstHour = currentHour - (HISTORY_HOURS - 1) * HOUR_MS;
  const history = new Map<string, EndpointHour[]>();
  if (endpoints.length === 0) return history;

  const rows = await db
    .select({
      channelId: channelStatMinutes.channelId,
      upstreamModel: channelStatMinutes.upstreamModel,
      minute: channelStatMinutes.minute,
      successes: channelStatMinutes.successes,
      providerErrors: channelStatMinutes.providerErrors,
      requestErrors: channelStatMinutes.requestErrors,
      firstToken: channelStatMinutes.firstTokenHistogram,
      throughput: channelStatMinutes.throughputHistogram,
    })
    .from(channelStatMinutes)
    .where(
      and(
        gte(channelStatMinutes.minute, new Date(firstHour)),
        or(
          ...endpoints.map((endpoint) =>
            and(
              eq(channelStatMinutes.channelId, endpoint.channelId),
              eq(channelStatMinutes.upstreamModel, endpoint.upstreamModel),
            ),
          ),
        ),
      ),
    );

  const totals = new Map<string, Map<number, HourTotals>>();
  for (const row of rows) {
    const hour = Math.floor(row.minute.getTime() / HOUR_MS) * HOUR_MS;
    const key = endpointHistoryKey(row);
    let hours = totals.get(key);
    if (hours === undefined) totals.set(key, (hours = new Map<number, HourTotals>()));
    let sum = hours.get(hour);
    if (sum === undefined) hours.set(hour, (sum = emptyHour()));
    sum.successes += row.successes;
    sum.providerErrors += row.providerErrors;
    sum.requestErrors += row.requestErrors;
    addHistogram(sum.firstToken, row.firstToken);
    addHistogram(sum.throughput, row.throughput);
  }

  for (const endpoint of endpoints) {
    const hours = totals.get(endpointHistoryKey(endpoint));
    const series: EndpointHour[] = [];
    for (let hour = firstHour; hour <= currentHour; hour += HOUR_MS) {
      const sum = hours?.get(hour);
      const requests = sum === undefined ? 0 : sum.successes + sum.providerErrors + sum.requestErrors;
      series.push({
        hour,
        requests,
        uptimePercent: sum === undefined || requests === 0 ? null : (100 * (requests - sum.providerErrors)) / requests,
        firstTokenP50Ms: sum === undefined ? null : histogramQuantile(sum.firstToken, 0.5),
        throughputP50: sum === undefined ? null : histogramQuantile(sum.throughput, 0.5),
      });
    }
    history.set(endpointHistoryKey(endpoint), series);
  }
  return history;
}
