import { describe, expect, it } from "vitest";
import type { CatalogModel, ModelEndpoint } from "~/server/gateway/routing/catalog";
import { createChannelStats, type ChannelStats } from "~/server/gateway/routing/channel-stats";
import { selectCandidates } from "~/server/gateway/routing/select-candidates";
import { tokenPrices } from "../../../../helpers/prices";

function endpoint(provider: string, priority: number): ModelEndpoint {
  return {
    id: provider,
    upstreamModel: "m",
    priceVersionId: null,
    priority,
    weight: 1,
    prices: tokenPrices({ inputPriceNano: 1_000_000_000n, outputPriceNano: 2_000_000_000n }),
    channel: {
      id: provider,
      name: provider,
      kind: "openai-compatible",
      provider,
      baseUrl: "",
      apiKey: null,
      priority: 0,
      weight: 1,
      retainsData: true,
    },
  };
}

const model = { id: "x/model", endpoints: [endpoint("alpha", 2), endpoint("beta", 1)] } as unknown as CatalogModel;
const threeWay = {
  id: "x/three",
  endpoints: [endpoint("alpha", 3), endpoint("beta", 2), endpoint("gamma", 1)],
} as unknown as CatalogModel;

function providersFor(
  preferences: Parameters<typeof selectCandidates>[0]["preferences"],
  carries = () => true,
  stats: ChannelStats = createChannelStats(() => 0),
  models: CatalogModel[] = [model],
) {
  const selection = selectCandidates({
    models,
    preferences,
    requestParameters: ["logprobs"],
    carries: (endpoint, parameter) => carries() || !(endpoint.channel.provider === "alpha" && parameter === "logprobs"),
    statsOf: (endpoint) => stats.get(endpoint.channel.id, endpoint.upstreamModel),
    random: () => 0,
  });
  return "candidates" in selection
    ? selection.candidates.map((candidate) => candidate.endpoint.channel.provider)
    : selection;
}

describe("selectCandidates", () => {
  it("keeps priority order without preferences", () => {
    expect(providersFor(null)).toEqual(["alpha", "beta"]);
  });

  it("require_parameters keeps only providers that carry every parameter of the request", () => {
    expect(providersFor({ require_parameters: true }, () => false)).toEqual(["beta"]);
    expect(providersFor({ require_parameters: false }, () => false)).toEqual(["alpha", "beta"]);
  });

  it("names the filter that left nothing", () => {
    expect(providersFor({ ignore: ["alpha", "BETA"] })).toEqual({ excludedBy: "provider.ignore" });
    expect(providersFor({ max_price: { completion: 1 } })).toEqual({ excludedBy: "provider.max_price" });
    expect(providersFor({ order: ["gamma"], allow_fallbacks: false })).toEqual({ excludedBy: "provider.order" });
  });

  it("order ranks listed providers first, case-insensitively, keeping the rest after", () => {
    expect(providersFor({ order: ["Beta"] })).toEqual(["beta", "alpha"]);
    expect(providersFor({ order: ["beta"], allow_fallbacks: false })).toEqual(["beta"]);
  });

  it("sort latency puts the lowest median time to first token first, unmeasured endpoints last", () => {
    const stats = createChannelStats(() => 600_000);
    for (let call = 0; call < 5; call++) {
      stats.record("alpha", "m", { outcome: "success", latencyMs: 900, firstTokenMs: 800, outputTokens: 10 });
      stats.record("gamma", "m", { outcome: "success", latencyMs: 300, firstTokenMs: 100, outputTokens: 10 });
    }
    expect(providersFor({ sort: "latency" }, undefined, stats, [threeWay])).toEqual(["gamma", "alpha", "beta"]);
    // Without a sort, priority decides.
    expect(providersFor(null, undefined, stats, [threeWay])).toEqual(["alpha", "beta", "gamma"]);
  });

  it("sort throughput puts the highest median tokens per second first", () => {
    const stats = createChannelStats(() => 600_000);
    for (let call = 0; call < 5; call++) {
      stats.record("alpha", "m", { outcome: "success", latencyMs: 900, tokensPerSecond: 20 });
      stats.record("beta", "m", { outcome: "success", latencyMs: 900, tokensPerSecond: 150 });
      stats.record("gamma", "m", { outcome: "success", latencyMs: 900, tokensPerSecond: 60 });
    }
    expect(providersFor({ sort: "throughput" }, undefined, stats, [threeWay])).toEqual(["beta", "gamma", "alpha"]);
  });

  it("failures alone do not give an endpoint a latency to be sorted by", () => {
    const stats = createChannelStats(() => 600_000);
    stats.record("beta", "m", { outcome: "provider_error" });
    stats.record("gamma", "m", { outcome: "success", latencyMs: 500, firstTokenMs: 400 });
    expect(providersFor({ sort: "latency" }, undefined, stats, [threeWay])).toEqual(["gamma", "alpha", "beta"]);
  });
});
