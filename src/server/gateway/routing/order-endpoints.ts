import type { ModelEndpoint } from "./catalog";

/**
 * Tiers in the order they are tried: the endpoint's priority, then its channel's (higher first), then native channels
 * before aggregators. An aggregator (OpenRouter) adds its fee and a second hop, so it is the model's fallback unless an
 * operator gives it a priority of its own; a request's `provider.order` or `only` still picks it explicitly.
 */
function compareTiers(a: ModelEndpoint, b: ModelEndpoint): number {
  return (
    b.priority - a.priority ||
    b.channel.priority - a.channel.priority ||
    Number(a.channel.aggregator === true) - Number(b.channel.aggregator === true)
  );
}

/**
 * Candidates in the order to try them: tier by tier (compareTiers), and within a tier a weighted random order drawn
 * from `random` so traffic spreads by weight.
 */
export function orderEndpoints(endpoints: readonly ModelEndpoint[], random: () => number): ModelEndpoint[] {
  const byTier = [...endpoints].sort(compareTiers);
  const ordered: ModelEndpoint[] = [];
  let tier: ModelEndpoint[] = [];
  for (const endpoint of byTier) {
    const previous = tier[0];
    if (previous !== undefined && compareTiers(previous, endpoint) !== 0) {
      ordered.push(...weightedShuffle(tier, random));
      tier = [];
    }
    tier.push(endpoint);
  }
  ordered.push(...weightedShuffle(tier, random));
  return ordered;
}

function weightedShuffle(tier: ModelEndpoint[], random: () => number): ModelEndpoint[] {
  if (tier.length < 2) return tier;
  const remaining = [...tier];
  const ordered: ModelEndpoint[] = [];
  while (remaining.length > 0) {
    const weights = remaining.map((endpoint) => Math.max(0, endpoint.weight * endpoint.channel.weight));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let pick = remaining.length - 1;
    if (total > 0) {
      let target = random() * total;
      pick = weights.findIndex((weight) => (target -= weight) < 0);
      if (pick === -1) pick = remaining.length - 1;
    }
    ordered.push(...remaining.splice(pick, 1));
  }
  return ordered;
}
