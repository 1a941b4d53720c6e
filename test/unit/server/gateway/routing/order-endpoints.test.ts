import { describe, expect, it } from "vitest";
import type { ModelEndpoint } from "~/server/gateway/routing/catalog";
import { orderEndpoints } from "~/server/gateway/routing/order-endpoints";
import { tokenPrices } from "../../../../helpers/prices";

function endpoint(
  id: string,
  priority: number,
  weight: number,
  channelPriority = 0,
  aggregator = false,
): ModelEndpoint {
  return {
    id,
    upstreamModel: id,
    priceVersionId: null,
    priority,
    weight,
    prices: tokenPrices({ inputPriceNano: 0n, outputPriceNano: 0n }),
    channel: {
      id,
      name: id,
      kind: "openai",
      provider: "openai",
      baseUrl: "",
      apiKey: null,
      priority: channelPriority,
      weight: 1,
      retainsData: true,
      aggregator,
    },
  };
}

const sequence = (...values: number[]) => {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
};

describe("orderEndpoints", () => {
  it("tries higher priority tiers first, then channel priority", () => {
    const ordered = orderEndpoints(
      [endpoint("low", 0, 1), endpoint("high", 5, 1), endpoint("mid", 0, 1, 3)],
      sequence(0),
    );
    expect(ordered.map((candidate) => candidate.id)).toEqual(["high", "mid", "low"]);
  });

  it("spreads traffic within a tier by weight", () => {
    const tier = [endpoint("a", 0, 3), endpoint("b", 0, 1)];
    const counts = { a: 0, b: 0 };
    for (let step = 0; step < 400; step += 1) {
      const first = orderEndpoints(tier, () => (step + 0.5) / 400)[0]!.id as "a" | "b";
      counts[first] += 1;
    }
    expect(counts).toEqual({ a: 300, b: 100 });
  });

  it("keeps every candidate exactly once", () => {
    const all = [endpoint("a", 1, 1), endpoint("b", 1, 2), endpoint("c", 0, 0), endpoint("d", 1, 5)];
    const ordered = orderEndpoints(all, sequence(0.9, 0.1, 0.5));
    expect(ordered.map((candidate) => candidate.id).sort()).toEqual(["a", "b", "c", "d"]);
    expect(ordered.at(-1)?.id).toBe("c");
  });

  it("puts aggregators after the native channels of their tier, whatever their weight", () => {
    const tier = [endpoint("openrouter", 0, 1000, 0, true), endpoint("native-a", 0, 1), endpoint("native-b", 0, 1)];
    for (const draw of [0, 0.5, 0.999]) {
      expect(orderEndpoints(tier, () => draw).at(-1)?.id).toBe("openrouter");
    }
  });

  it("lets an operator put an aggregator first by giving it a higher priority", () => {
    const ordered = orderEndpoints([endpoint("native", 0, 1), endpoint("openrouter", 0, 1, 5, true)], sequence(0));
    expect(ordered.map((candidate) => candidate.id)).toEqual(["openrouter", "native"]);
  });
});
