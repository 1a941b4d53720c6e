import { formatNanoAsUsd } from "../billing/money";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import { jsonResponse, type GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { ModelInfo, PriceList } from "../protocol/api-schemas";
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

/**
 * The model's catalog parameters that at least one of its endpoints can carry: a parameter every adapter serving the
 * model would drop is not listed.
 */
function carriedParameters(model: CatalogModel, deps: GatewayDeps): string[] {
  const adapters = model.endpoints.map((endpoint) => deps.providers.forChannel(endpoint.channel).adapter);
  return model.supportedParameters.filter((parameter) =>
    adapters.some((adapter) => adapter.supportedParameters === undefined || adapter.supportedParameters.has(parameter)),
  );
}

export function renderModel(model: CatalogModel, deps: GatewayDeps): ModelInfo {
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
    supported_parameters: carriedParameters(model, deps),
    top_provider: { context_length: model.contextLength, max_completion_tokens: model.maxOutputTokens },
  };
}

/** The routable models this key may call. */
function visibleModels(principal: Principal, deps: GatewayDeps): CatalogModel[] {
  const allowed = principal.allowedModels;
  const models = deps.catalog.listModels();
  return allowed === null ? models : models.filter((model) => allowed.has(model.id));
}

export function handleListModels(principal: Principal, deps: GatewayDeps): GatewayResponse {
  return jsonResponse(200, {
    object: "list",
    data: visibleModels(principal, deps).map((model) => renderModel(model, deps)),
  });
}

export function handleGetModel(principal: Principal, deps: GatewayDeps, id: string): GatewayResponse {
  const model = deps.catalog.getModel(id);
  // A model this key may not use is reported like one that does not exist, as OpenAI does.
  if (model === undefined || model.endpoints.length === 0 || principal.allowedModels?.has(id) === false) {
    throw errors.modelNotFound(id);
  }
  return jsonResponse(200, renderModel(model, deps));
}

/** Nano-USD per million tokens as dollars per million, e.g. "2.5"; null when the provider has no such price. */
function perMillionUsd(nano: bigint | null): string | null {
  return nano === null ? null : formatNanoAsUsd(nano);
}

/** GET /v1/prices: what each model costs per one million tokens at each provider that serves it. */
export function handlePrices(principal: Principal, deps: GatewayDeps): GatewayResponse {
  const body: PriceList = {
    currency: "USD",
    unit: "per 1M tokens",
    data: visibleModels(principal, deps).map((model) => ({
      model: model.id,
      name: model.name,
      providers: model.endpoints.map((endpoint) => ({
        provider: endpoint.channel.provider,
        input: perMillionUsd(endpoint.prices.inputPriceNano),
        output: perMillionUsd(endpoint.prices.outputPriceNano),
        cache_read: perMillionUsd(endpoint.prices.cacheReadPriceNano),
        cache_write: perMillionUsd(endpoint.prices.cacheWritePriceNano),
      })),
    })),
  };
  return jsonResponse(200, body);
}
