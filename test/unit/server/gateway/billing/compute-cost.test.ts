import { describe, expect, it } from "vitest";
import { computeCostNano, ZERO_USAGE } from "~/server/gateway/billing/compute-cost";
import { TEXT_ONLY, tokenPrices } from "../../../../helpers/prices";
import { parseUsdToNano } from "~/server/gateway/billing/money";

const perMillion = (usd: string) => parseUsdToNano(usd);

describe("computeCostNano", () => {
  it("prices 10 tokens at $0.05 per million at exactly 500 nano-USD", () => {
    const prices = tokenPrices({
      inputPriceNano: perMillion("0.05"),
      outputPriceNano: perMillion("0.05"),
      cacheReadPriceNano: null,
      cacheWritePriceNano: null,
    });
    expect(computeCostNano({ ...ZERO_USAGE, promptTokens: 10 }, prices, TEXT_ONLY)).toBe(500n);
    expect(computeCostNano({ ...ZERO_USAGE, completionTokens: 10 }, prices, TEXT_ONLY)).toBe(500n);
  });

  it("prices cached and cache-write tokens per component, out of the prompt total", () => {
    const prices = tokenPrices({
      inputPriceNano: perMillion("3"),
      outputPriceNano: perMillion("15"),
      cacheReadPriceNano: perMillion("0.30"),
      cacheWritePriceNano: perMillion("3.75"),
    });
    const usage = {
      promptTokens: 1_000,
      completionTokens: 100,
      cachedTokens: 600,
      cacheWriteTokens: 300,
      reasoningTokens: 0,
    };
    // 100 uncached × 3000 + 600 × 300 + 300 × 3750 + 100 × 15000 (nano-USD per token × 1e3)
    expect(computeCostNano(usage, prices, TEXT_ONLY)).toBe(300_000n + 180_000n + 1_125_000n + 1_500_000n);
  });

  it("charges cache tokens at the input price when the endpoint has no cache price", () => {
    const prices = tokenPrices({
      inputPriceNano: perMillion("2"),
      outputPriceNano: perMillion("8"),
      cacheReadPriceNano: null,
      cacheWritePriceNano: null,
    });
    expect(computeCostNano({ ...ZERO_USAGE, promptTokens: 10, cachedTokens: 4 }, prices, TEXT_ONLY)).toBe(20_000n);
  });

  it("rounds a remaining fraction of a nano-dollar up, once per request", () => {
    const prices = tokenPrices({
      inputPriceNano: perMillion("0.000001"),
      outputPriceNano: 0n,
      cacheReadPriceNano: null,
      cacheWritePriceNano: null,
    });
    // 3 tokens × 1000 nano-USD per million = 0.003 nano-USD → 1.
    expect(computeCostNano({ ...ZERO_USAGE, promptTokens: 3 }, prices, TEXT_ONLY)).toBe(1n);
    expect(computeCostNano(ZERO_USAGE, prices, TEXT_ONLY)).toBe(0n);
  });
});
