import { NANO_PER_USD } from "../billing/money";
import type { ProviderPreferences } from "../protocol/chat-completion-request";
import type { CatalogModel, ModelEndpoint } from "./catalog";
import type { EndpointStats } from "./channel-stats";
import { orderEndpoints } from "./order-endpoints";

/** One way to serve a call: a model (the requested one or a `models` fallback) on one of its endpoints. */
export interface Candidate {
  model: CatalogModel;
  endpoint: ModelEndpoint;
}

export type CandidateSelection = { candidates: Candidate[] } | { excludedBy: string };

export interface SelectCandidatesInput {
  /** The requested model, then the `models` fallbacks in order. */
  models: readonly CatalogModel[];
  preferences: ProviderPreferences | null | undefined;
  /** The request's parameters that a provider would have to carry (for `require_parameters`). */
  requestParameters: readonly string[];
  carries(endpoint: ModelEndpoint, parameter: string): boolean;
  /** Live statistics, for `sort: "latency"` and `"throughput"`. */
  statsOf(endpoint: ModelEndpoint): EndpointStats;
  random: () => number;
}

/**
 * Sorts by a measured figure, best first; endpoints without one yet (no successful call in the last 30 minutes)
 * keep their order after the measured ones. Stable, so ties keep the priority and weight order.
 */
function sortByMeasure(
  endpoints: readonly ModelEndpoint[],
  measure: (endpoint: ModelEndpoint) => number | null,
  direction: 1 | -1,
): ModelEndpoint[] {
  const measured = endpoints.map((endpoint, index) => ({ endpoint, index, value: measure(endpoint) }));
  return measured
    .sort((a, b) => {
      if (a.value === null || b.value === null)
        return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
      return (a.value - b.value) * direction || a.index - b.index;
    })
    .map(({ endpoint }) => endpoint);
}

const slug = (text: string) => text.trim().toLowerCase();

/** USD per 1M tokens, as the client wrote it, in nano-USD per 1M (rounded to the nano-dollar). */
const usdPerMillionToNano = (usd: number) => BigInt(Math.round(usd * Number(NANO_PER_USD)));

/**
 * The candidates a call may be sent to, in the order to try them, following OpenRouter's `provider` preferences:
 * each model's endpoints in priority/weight order, filtered by `only`, `ignore`, `data_collection`, `max_price` and
 * `require_parameters`; reordered by `sort: "price"` and then `order` (listed providers first, in that order);
 * `allow_fallbacks: false` keeps only the listed providers (or, without `order`, the first candidate). Models come in
 * the order given (`models` fallbacks after the requested one). When the filters leave nothing, the answer names the
 * first filter that excluded the last remaining endpoints, so the client can be told which constraint to relax.
 * `sort: "latency"` (time to first token, lowest first) and `"throughput"` (tokens per second, highest first) use the
 * median of the live channel statistics over the last 30 minutes.
 */
export function selectCandidates(input: SelectCandidatesInput): CandidateSelection {
  const preferences = input.preferences ?? {};
  const filters: [string, (endpoint: ModelEndpoint) => boolean][] = [];
  if (preferences.only != null) {
    const only = new Set(preferences.only.map(slug));
    filters.push(["provider.only", (endpoint) => only.has(slug(endpoint.channel.provider))]);
  }
  if (preferences.ignore != null) {
    const ignore = new Set(preferences.ignore.map(slug));
    filters.push(["provider.ignore", (endpoint) => !ignore.has(slug(endpoint.channel.provider))]);
  }
  if (preferences.data_collection === "deny") {
    filters.push(["provider.data_collection", (endpoint) => !endpoint.channel.retainsData]);
  }
  const maxPrompt = preferences.max_price?.prompt;
  const maxCompletion = preferences.max_price?.completion;
  if (maxPrompt != null || maxCompletion != null) {
    filters.push([
      "provider.max_price",
      (endpoint) =>
        (maxPrompt == null || endpoint.prices.inputPriceNano <= usdPerMillionToNano(maxPrompt)) &&
        (maxCompletion == null || endpoint.prices.outputPriceNano <= usdPerMillionToNano(maxCompletion)),
    ]);
  }
  if (preferences.require_parameters === true) {
    filters.push([
      "provider.require_parameters",
      (endpoint) => input.requestParameters.every((parameter) => input.carries(endpoint, parameter)),
    ]);
  }

  let excludedBy: string | null = null;
  let candidates: Candidate[] = [];
  for (const model of input.models) {
    let endpoints = orderEndpoints(model.endpoints, input.random);
    for (const [name, keep] of filters) {
      const kept = endpoints.filter(keep);
      if (kept.length === 0 && endpoints.length > 0) excludedBy ??= name;
      endpoints = kept;
    }
    if (preferences.sort === "price") {
      const price = (endpoint: ModelEndpoint) => endpoint.prices.inputPriceNano + endpoint.prices.outputPriceNano;
      endpoints = [...endpoints].sort((a, b) => (price(a) < price(b) ? -1 : price(a) > price(b) ? 1 : 0));
    } else if (preferences.sort === "latency") {
      // Latency is time to the first token, as on OpenRouter: what a streaming client waits for.
      endpoints = sortByMeasure(endpoints, (endpoint) => input.statsOf(endpoint).firstTokenMs?.p50 ?? null, 1);
    } else if (preferences.sort === "throughput") {
      endpoints = sortByMeasure(endpoints, (endpoint) => input.statsOf(endpoint).tokensPerSecond?.p50 ?? null, -1);
    }
    candidates.push(...endpoints.map((endpoint) => ({ model, endpoint })));
  }

  if (preferences.order != null && preferences.order.length > 0) {
    const rank = new Map(preferences.order.map((provider, index) => [slug(provider), index]));
    const rankOf = (candidate: Candidate) => rank.get(slug(candidate.endpoint.channel.provider)) ?? rank.size;
    // Stable: candidates of equally ranked providers keep their model and priority order.
    candidates = candidates
      .map((candidate, index) => ({ candidate, index }))
      .sort((a, b) => rankOf(a.candidate) - rankOf(b.candidate) || a.index - b.index)
      .map(({ candidate }) => candidate);
    if (preferences.allow_fallbacks === false) {
      const listed = candidates.filter((candidate) => rank.has(slug(candidate.endpoint.channel.provider)));
      if (listed.length === 0 && candidates.length > 0) excludedBy ??= "provider.order";
      candidates = listed;
    }
  } else if (preferences.allow_fallbacks === false) {
    candidates = candidates.slice(0, 1);
  }

  return candidates.length > 0 ? { candidates } : { excludedBy: excludedBy ?? "provider" };
}
