import type { BillableExtras, TokenPrices } from "~/server/gateway/billing/compute-cost";

/** An endpoint's prices as tests state them: the token prices given, no fees, no markup unless given. */
export function tokenPrices(
  prices: Pick<TokenPrices, "inputPriceNano" | "outputPriceNano"> & Partial<TokenPrices>,
): TokenPrices {
  return {
    cacheReadPriceNano: null,
    cacheWritePriceNano: null,
    reasoningPriceNano: null,
    requestPriceNano: null,
    imagePriceNano: null,
    markupBasisPoints: 0n,
    ...prices,
  };
}

/** A request with no images. */
export const TEXT_ONLY: BillableExtras = { imageCount: 0 };
