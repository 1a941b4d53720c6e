import { describe, expect, it } from "vitest";
import type { CatalogModel, ModelEndpoint } from "~/server/gateway/routing/catalog";
import { selectCandidates } from "~/server/gateway/routing/select-candidates";
import { tokenPrices } from "../../../../helpers/prices";

function endpoint(provider: string, priority: number): ModelEndpoint {
  return {
    id: provider,
    upstreamModel: "m",
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

function providersFor(preferences: Parameters<typeof selectCandidates>[0]["preferences"], carries = () => true) {
  const selection = selectCandidates({
    models: [model],
    preferences,
    requestParameters: ["logprobs"],
    carries: (endpoint, parameter) => carries() || !(endpoint.channel.provider === "alpha" && parameter === "logprobs"),
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
});
