import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { Registry } from "prom-client";

/**
 * A scrape parsed by a Prometheus text-format parser (not ours), with lookups by metric name and exact labels. The
 * parser drops the labels of histogram series, so histograms are read from the registry (`histogramCount`).
 */
export interface Scrape {
  families: Set<string>;
  /** The value of the sample with exactly these labels; 0 when there is none (a counter not yet incremented). */
  value(name: string, labels?: Record<string, string>): number;
  /** Every sample of a family with its labels. */
  samples(name: string): { labels: Record<string, string>; value: number }[];
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const left = a ?? {};
  const keys = Object.keys(left);
  return keys.length === Object.keys(b).length && keys.every((key) => left[key] === b[key]);
}

export function parseScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const family = (name: string) => families.find((candidate) => candidate.name === name);
  return {
    families: new Set(families.map((candidate) => candidate.name)),
    value(name, labels = {}) {
      const sample = family(name)?.metrics.find((candidate) => sameLabels(candidate.labels, labels));
      return sample?.value === undefined ? 0 : Number(sample.value);
    },
    samples(name) {
      return (family(name)?.metrics ?? []).map((sample) => ({
        labels: sample.labels ?? {},
        value: Number(sample.value),
      }));
    },
  };
}

/** A histogram's observation count for exactly these labels, from the registry the scrape renders; 0 when none. */
export async function histogramCount(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  // A histogram's values are its buckets, `_sum` and `_count`, each named by `metricName`.
  const values = (metric?.values ?? []) as { metricName?: string; labels: Record<string, string>; value: number }[];
  const sample = values.find((value) => value.metricName === `${name}_count` && sameLabels(value.labels, labels));
  return sample?.value ?? 0;
}
