import { formatNanoAsUsd } from "../billing/money";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import { jsonResponse, type GatewayResponse } from "../http";
import type { CatalogModel } from "../routing/catalog";

/** USD per single token as a decimal string (OpenRouter's convention), from nano-USD per million tokens. */
function perTokenUsd(nanoPerMillion: bigint | null): string {
  if (nanoPerMillion === null) return "0";
  // nano-USD per million tokens = 1e-15 USD per token: shift the decimal point by 15 exactly.
  const digits = nanoPerMillion.toString().padStart(16, "0");
  const whole = digits.slice(0, -15).replace(/^0+(?=\d)/, "");
  const fraction = digits.slice(-15).replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** The cheapest endpoint's prices stand for the model, as on OpenRouter. */
function representativePrices(model: CatalogModel) {
  const [cheapest] = [...model.endpoints].sort((a, b) =>
    Number(a.prices.inputPriceNano + a.prices.outputPriceNano - (b.prices.inputPriceNano + b.prices.outputPriceNano)),
  );
  return cheapest?.prices;
}

export function renderModel(model: CatalogModel) {
  const prices = representativePrices(model);
  return {
    id: model.id,
    object: "model" as const,
    created: model.created,
    owned_by: model.author,
    name: model.name,
    description: model.description,
    context_length: model.contextLength,
    architecture: {
      input_modalities: model.inputModalities,
      output_modalities: model.outputModalities,
    },
    pricing: {
      prompt: perTokenUsd(prices?.inputPriceNano ?? null),
      completion: perTokenUsd(prices?.outputPriceNano ?? null),
      input_cache_read: perTokenUsd(prices?.cacheReadPriceNano ?? null),
      input_cache_write: perTokenUsd(prices?.cacheWritePriceNano ?? null),
      request: "0",
    },
    /** The same prices per one million tokens, easier for people to read. */
    pricing_per_million_usd: {
      prompt: formatNanoAsUsd(prices?.inputPriceNano ?? 0n),
      completion: formatNanoAsUsd(prices?.outputPriceNano ?? 0n),
    },
    supported_parameters: model.supportedParameters,
    top_provider: { context_length: model.contextLength, max_completion_tokens: model.maxOutputTokens },
  };
}

export function handleListModels(deps: GatewayDeps): GatewayResponse {
  return jsonResponse(200, { object: "list", data: deps.catalog.listModels().map(renderModel) });
}

export function handleGetModel(deps: GatewayDeps, id: string): GatewayResponse {
  const model = deps.catalog.getModel(id);
  if (model === undefined || model.endpoints.length === 0) throw errors.modelNotFound(id);
  return jsonResponse(200, renderModel(model));
}
