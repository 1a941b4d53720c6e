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

/** Nano-USD per one million tokens. A missing cache price means cache tokens cost the same as input. */
export interface TokenPrices {
  inputPriceNano: bigint;
  outputPriceNano: bigint;
  cacheReadPriceNano: bigint | null;
  cacheWritePriceNano: bigint | null;
}

export const ZERO_USAGE: TokenUsage = {
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/**
 * Cost in nano-USD. Every component is summed exactly (in nano-USD per million tokens) and divided once,
 * rounding any remaining fraction of a nano-dollar up: one rounding per request, never in the customer's favour
 * by more than one nano-dollar, never against them by more either.
 */
export function computeCostNano(usage: TokenUsage, prices: TokenPrices): bigint {
  const cached = BigInt(Math.max(0, usage.cachedTokens));
  const cacheWrite = BigInt(Math.max(0, usage.cacheWriteTokens));
  const uncachedInput = BigInt(Math.max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens));
  const output = BigInt(Math.max(0, usage.completionTokens));
  const scaled =
    uncachedInput * prices.inputPriceNano +
    cached * (prices.cacheReadPriceNano ?? prices.inputPriceNano) +
    cacheWrite * (prices.cacheWritePriceNano ?? prices.inputPriceNano) +
    output * prices.outputPriceNano;
  return (scaled + TOKENS_PER_PRICE_UNIT - 1n) / TOKENS_PER_PRICE_UNIT;
}
