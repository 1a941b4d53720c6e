import { countTokens } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { computeCostNano, worstCaseCostNano, ZERO_USAGE } from "~/server/gateway/billing/compute-cost";
import { meterCall, noEmittedText, type MeterInput } from "~/server/gateway/billing/meter-call";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { tokenPrices, TEXT_ONLY } from "../../../../helpers/prices";

const prices = tokenPrices({ inputPriceNano: parseUsdToNano("1"), outputPriceNano: parseUsdToNano("4") });
const reported = { ...ZERO_USAGE, promptTokens: 100, completionTokens: 50 };

function input(overrides: Partial<MeterInput>): MeterInput {
  return {
    reported: null,
    completed: false,
    emitted: noEmittedText(),
    promptTokens: 12,
    imageCount: 0,
    prices,
    ...overrides,
  };
}

describe("meterCall", () => {
  it("bills a finished call with reported usage exactly as reported", () => {
    const metered = meterCall(input({ reported, completed: true }));
    expect(metered).toEqual({ usage: reported, billingStatus: "exact", costNano: 100n * 1_000n + 50n * 4_000n });
  });

  it("bills the gateway's own count of a finished call at the same prices, marked estimated", () => {
    // An embeddings upstream that reports no token count: the tokenizer's count of the input stands in for it.
    const counted = { ...ZERO_USAGE, promptTokens: 100 };
    expect(meterCall(input({ reported: counted, completed: true, estimated: true }))).toEqual({
      usage: counted,
      billingStatus: "estimated",
      costNano: 100n * 1_000n,
    });
  });

  it("bills nothing for a call that produced nothing", () => {
    expect(meterCall(input({}))).toMatchObject({ billingStatus: "void", costNano: 0n });
    expect(meterCall(input({ reported: { ...ZERO_USAGE, promptTokens: 100 } }))).toMatchObject({
      billingStatus: "void",
    });
  });

  it("counts what the client received when the upstream reported nothing", () => {
    const emitted = { text: ["Hello", " there"], reasoning: ["Let me think."] };
    const metered = meterCall(input({ emitted, completed: true }));
    const reasoning = countTokens("Let me think.");
    expect(metered.billingStatus).toBe("estimated");
    expect(metered.usage).toMatchObject({
      promptTokens: 12,
      completionTokens: countTokens("Hello there") + reasoning,
      reasoningTokens: reasoning,
    });
  });

  it("prefers the upstream's figures where it gave them and they are larger", () => {
    const emitted = { text: ["Hi"], reasoning: [] };
    const metered = meterCall(input({ emitted, reported: { ...ZERO_USAGE, promptTokens: 900, completionTokens: 30 } }));
    expect(metered).toMatchObject({ billingStatus: "estimated", usage: { promptTokens: 900, completionTokens: 30 } });
  });
});

describe("computeCostNano with reasoning, fees and markup", () => {
  it("prices reasoning tokens apart from the rest of the output", () => {
    const withReasoning = tokenPrices({ ...prices, reasoningPriceNano: parseUsdToNano("10") });
    const usage = { ...ZERO_USAGE, completionTokens: 100, reasoningTokens: 60 };
    expect(computeCostNano(usage, withReasoning, TEXT_ONLY)).toBe(40n * 4_000n + 60n * 10_000n);
    // Without a reasoning price, reasoning is output.
    expect(computeCostNano(usage, prices, TEXT_ONLY)).toBe(100n * 4_000n);
  });

  it("adds the request and image fees and applies the markup once, rounding up once", () => {
    const fees = tokenPrices({ ...prices, requestPriceNano: 1_000n, imagePriceNano: 333n, markupBasisPoints: 550n });
    // (10 × 1000 + 1000 + 3 × 333) × 1.055 = 12,658.945 → 12,659
    expect(computeCostNano({ ...ZERO_USAGE, promptTokens: 10 }, fees, { imageCount: 3 })).toBe(12_659n);
  });

  it("bounds the cost from above with the dearest input and output rates", () => {
    const dear = tokenPrices({
      ...prices,
      cacheWritePriceNano: parseUsdToNano("1.25"),
      reasoningPriceNano: parseUsdToNano("6"),
    });
    const bound = worstCaseCostNano({ promptTokens: 100, outputTokens: 50, imageCount: 0 }, dear);
    expect(bound).toBe(100n * 1_250n + 50n * 6_000n);
    const actual = computeCostNano(
      { ...ZERO_USAGE, promptTokens: 100, cacheWriteTokens: 100, completionTokens: 50, reasoningTokens: 50 },
      dear,
      TEXT_ONLY,
    );
    expect(actual).toBeLessThanOrEqual(bound);
  });
});
