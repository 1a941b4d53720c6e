import { TOKENS_PER_PRICE_UNIT } from "./money";

/** Token counts in OpenAI's convention: `promptTokens` includes cached and cache-write tokens. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** The upstream's own charge for the call, when it reports one (OpenRouter); never what the customer pays. */
  upstreamCostNano?: bigint | null;
}

/**
 * What one endpoint charges. Token prices are nano-USD per one million tokens; a missing cache price means cache
 * tokens cost the same as input, a missing reasoning price that reasoning costs the same as output.
 */
export interface TokenPrices {
  inputPriceNano: bigint;
  outputPriceNano: bigint;
  cacheReadPriceNano: bigint | null;
  cacheWritePriceNano: bigint | null;
  reasoningPriceNano: bigint | null;
  /** Flat nano-USD per billed request. */
  requestPriceNano: bigint | null;
  /** Nano-USD per input image. */
  imagePriceNano: bigint | null;
  /** The platform's markup in basis points (550 = 5.5 %), applied once to the whole cost. */
  markupBasisPoints: bigint;
}

/** What a call is billed for beyond its tokens. */
export interface BillableExtras {
  /** Input images in the request. */
  imageCount: number;
}

const BASIS_POINTS = 10_000n;

export const ZERO_USAGE: TokenUsage = {
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/**
 * Cost in nano-USD. Every component (tokens at their prices, the request fee, image fees) is summed exactly in
 * nano-USD per million tokens, the markup is applied to that sum, and the result is divided once, rounding any
 * remaining fraction of a nano-dollar up: one rounding per request, never off by more than one nano-dollar.
 * Reasoning tokens are part of `completionTokens` (OpenAI's convention) and are priced separately from the rest.
 */
export function computeCostNano(usage: TokenUsage, prices: TokenPrices, extras: BillableExtras): bigint {
  const cached = BigInt(Math.max(0, usage.cachedTokens));
  const cacheWrite = BigInt(Math.max(0, usage.cacheWriteTokens));
  const uncachedInput = BigInt(Math.max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens));
  const reasoning = BigInt(Math.max(0, Math.min(usage.reasoningTokens, usage.completionTokens)));
  const output = BigInt(Math.max(0, usage.completionTokens)) - reasoning;
  const scaled =
    uncachedInput * prices.inputPriceNano +
    cached * (prices.cacheReadPriceNano ?? prices.inputPriceNano) +
    cacheWrite * (prices.cacheWritePriceNano ?? prices.inputPriceNano) +
    output * prices.outputPriceNano +
    reasoning * (prices.reasoningPriceNano ?? prices.outputPriceNano) +
    ((prices.requestPriceNano ?? 0n) + BigInt(Math.max(0, extras.imageCount)) * (prices.imagePriceNano ?? 0n)) *
      TOKENS_PER_PRICE_UNIT;
  return ceilDivide(scaled * (BASIS_POINTS + prices.markupBasisPoints), TOKENS_PER_PRICE_UNIT * BASIS_POINTS);
}

/**
 * The most a call can cost, reserved before it is dispatched: every prompt token at the dearest input rate (a
 * cache write costs more than plain input), every output token the call may produce at the dearer of the output
 * and reasoning rates, plus the fees, with markup.
 */
export function worstCaseCostNano(
  bounds: { promptTokens: number; outputTokens: number; imageCount: number },
  prices: TokenPrices,
): bigint {
  const dearestInput = maxOf(prices.inputPriceNano, prices.cacheWritePriceNano ?? 0n);
  const dearestOutput = maxOf(prices.outputPriceNano, prices.reasoningPriceNano ?? 0n);
  const scaled =
    BigInt(Math.max(0, bounds.promptTokens)) * dearestInput +
    BigInt(Math.max(0, bounds.outputTokens)) * dearestOutput +
    ((prices.requestPriceNano ?? 0n) + BigInt(Math.max(0, bounds.imageCount)) * (prices.imagePriceNano ?? 0n)) *
      TOKENS_PER_PRICE_UNIT;
  return ceilDivide(scaled * (BASIS_POINTS + prices.markupBasisPoints), TOKENS_PER_PRICE_UNIT * BASIS_POINTS);
}

function ceilDivide(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
