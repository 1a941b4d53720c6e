import type { TokenPrices } from "../billing/compute-cost";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import { jsonResponse, type GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { ModelEndpointList, ModelInfo, PriceList } from "../protocol/api-schemas";
import type { ProviderAdapter } from "../providers/types";
import type { CatalogModel, ModelEndpoint } from "../routing/catalog";
import type { Percentiles } from "../routing/channel-stats";
import { circuitKey } from "../routing/circuit-breaker";
import { isEmbeddingModel, embeddingDimensions } from "../routing/model-kind";

/** `value / 10^scale` as an exact decimal string, trailing zeros trimmed ("0.0000025", "3"). */
function exactDecimal(value: bigint, scale: number): string {
  const digits = value.toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, -scale).replace(/^0+(?=\d)/, "");
  const fraction = digits.slice(-scale).replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** A price with the platform's markup applied, scaled by 10^4 (the markup is in basis points): exact, no rounding. */
function markedUp(nano: bigint, prices: TokenPrices): bigint {
  return nano * (10_000n + prices.markupBasisPoints);
}

/**
 * USD per single token as a decimal string (OpenRouter's convention), from nano-USD per million tokens, markup
 * included: what a client is charged. nano-USD per million tokens is 1e-15 USD per token, and the markup adds 4 places.
 */
function perTokenUsd(nanoPerMillion: bigint | null, prices: TokenPrices | undefined): string {
  if (nanoPerMillion === null || prices === undefined) return "0";
  return exactDecimal(markedUp(nanoPerMillion, prices), 19);
}

/** A flat fee (nano-USD) in USD, markup included. */
function feeUsd(nano: bigint | null, prices: TokenPrices | undefined): string {
  if (nano === null || prices === undefined) return "0";
  return exactDecimal(markedUp(nano, prices), 13);
}

/** The cheapest endpoint's prices stand for the model, as on OpenRouter. */
function representativePrices(model: CatalogModel) {
  const [cheapest] = [...model.endpoints].sort((a, b) =>
    Number(a.prices.inputPriceNano + a.prices.outputPriceNano - (b.prices.inputPriceNano + b.prices.outputPriceNano)),
  );
  return cheapest?.prices;
}

/**
 * What an adapter carries of a model's parameters: its embeddings parameters for an embedding model (none when it
 * makes no embeddings), its chat parameters otherwise; undefined means everything.
 */
function parametersCarried(adapter: ProviderAdapter, model: CatalogModel): ReadonlySet<string> | undefined {
  if (!isEmbeddingModel(model)) return adapter.supportedParameters;
  return adapter.embeddings?.supportedParameters ?? new Set();
}

/**
 * The model's catalog parameters that at least one of its endpoints can carry: a parameter every adapter serving the
 * model would drop is not listed.
 */
function carriedParameters(model: CatalogModel, deps: GatewayDeps): string[] {
  const carried = model.endpoints.map((endpoint) =>
    parametersCarried(deps.providers.forChannel(endpoint.channel).adapter, model),
  );
  return model.supportedParameters.filter((parameter) =>
    carried.some((supported) => supported === undefined || supported.has(parameter)),
  );
}

/** An embedding model produces no tokens: its catalog maximum output is its vectors' length. */
function maxCompletionTokens(model: CatalogModel): number | null {
  return isEmbeddingModel(model) ? null : model.maxOutputTokens;
}

/** A model's or an endpoint's prices per token and per request/image, OpenRouter's way, markup included. */
function renderPricing(prices: TokenPrices | undefined) {
  return {
    prompt: perTokenUsd(prices?.inputPriceNano ?? null, prices),
    completion: perTokenUsd(prices?.outputPriceNano ?? null, prices),
    input_cache_read: perTokenUsd(prices?.cacheReadPriceNano ?? null, prices),
    input_cache_write: perTokenUsd(prices?.cacheWritePriceNano ?? null, prices),
    internal_reasoning: perTokenUsd(prices?.reasoningPriceNano ?? prices?.outputPriceNano ?? null, prices),
    request: feeUsd(prices?.requestPriceNano ?? null, prices),
    image: feeUsd(prices?.imagePriceNano ?? null, prices),
  };
}

/**
 * The same prices per one million tokens (flat fees per request and per image), easier for people to read; null where
 * the provider has no such price. Reasoning tokens without a price of their own are billed as output.
 */
function renderPricingPerMillion(prices: TokenPrices | undefined) {
  return {
    prompt: perMillionUsd(prices?.inputPriceNano ?? 0n, prices) ?? "0",
    completion: perMillionUsd(prices?.outputPriceNano ?? 0n, prices) ?? "0",
    input_cache_read: perMillionUsd(prices?.cacheReadPriceNano ?? null, prices),
    input_cache_write: perMillionUsd(prices?.cacheWritePriceNano ?? null, prices),
    internal_reasoning: perMillionUsd(prices?.reasoningPriceNano ?? prices?.outputPriceNano ?? null, prices),
    request: prices?.requestPriceNano == null ? null : feeUsd(prices.requestPriceNano, prices),
    image: prices?.imagePriceNano == null ? null : feeUsd(prices.imagePriceNano, prices),
  };
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
    pricing: renderPricing(prices),
    pricing_per_million_usd: renderPricingPerMillion(prices),
    supported_parameters: carriedParameters(model, deps),
    top_provider: { context_length: model.contextLength, max_completion_tokens: maxCompletionTokens(model) },
    ...(isEmbeddingModel(model) ? { dimensions: embeddingDimensions(model) } : {}),
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

/** A routable model this key may use; one it may not is reported like one that does not exist, as OpenAI does. */
function visibleModel(principal: Principal, deps: GatewayDeps, id: string): CatalogModel {
  const model = deps.catalog.getModel(id);
  if (model === undefined || model.endpoints.length === 0 || principal.allowedModels?.has(id) === false) {
    throw errors.modelNotFound(id);
  }
  return model;
}

export function handleGetModel(principal: Principal, deps: GatewayDeps, id: string): GatewayResponse {
  return jsonResponse(200, renderModel(visibleModel(principal, deps, id), deps));
}

const percent = (share: number | null) => (share === null ? null : Math.round(share * 100_000) / 1000);
const seconds = (percentilesMs: Percentiles | null): Percentiles | null =>
  percentilesMs === null
    ? null
    : {
        p50: Math.round(percentilesMs.p50) / 1000,
        p75: Math.round(percentilesMs.p75) / 1000,
        p90: Math.round(percentilesMs.p90) / 1000,
        p99: Math.round(percentilesMs.p99) / 1000,
      };
const rounded = (values: Percentiles | null): Percentiles | null =>
  values === null
    ? null
    : {
        p50: Math.round(values.p50 * 10) / 10,
        p75: Math.round(values.p75 * 10) / 10,
        p90: Math.round(values.p90 * 10) / 10,
        p99: Math.round(values.p99 * 10) / 10,
      };

/**
 * GET /v1/models/{author}/{slug}/endpoints (OpenRouter's shape): each provider serving the model, in the default
 * routing order, with its prices, the parameters its adapter carries, and its live statistics: uptime over 5
 * minutes, 30 minutes and a day, and latency (to the first token), duration and throughput percentiles over 30 minutes.
 */
export function handleModelEndpoints(principal: Principal, deps: GatewayDeps, id: string): GatewayResponse {
  return jsonResponse(200, renderModelEndpoints(visibleModel(principal, deps, id), deps));
}

/** A model's endpoints in its default routing order: highest priority first, then heaviest weight. */
export function endpointsInRoutingOrder(model: CatalogModel): ModelEndpoint[] {
  return [...model.endpoints].sort((a, b) => b.priority - a.priority || b.weight - a.weight);
}

export function renderModelEndpoints(model: CatalogModel, deps: GatewayDeps): ModelEndpointList {
  return {
    data: {
      id: model.id,
      name: model.name,
      created: model.created,
      description: model.description,
      architecture: { input_modalities: model.inputModalities, output_modalities: model.outputModalities },
      endpoints: endpointsInRoutingOrder(model).map((endpoint) => {
        const { channel, upstreamModel } = endpoint;
        const stats = deps.channelStats.get(channel.id, upstreamModel);
        const adapter = deps.providers.forChannel(channel).adapter;
        const cooling = deps.breaker.msUntilAvailable([circuitKey(channel.id, upstreamModel)]) > 0;
        return {
          name: `${channel.provider}: ${model.name}`,
          model_name: model.name,
          provider_name: channel.provider,
          tag: channel.name,
          context_length: model.contextLength,
          max_completion_tokens: maxCompletionTokens(model),
          max_prompt_tokens: model.contextLength,
          pricing: renderPricing(endpoint.prices),
          quantization: null,
          supported_parameters: model.supportedParameters.filter((parameter) => {
            const carried = parametersCarried(adapter, model);
            return carried === undefined || carried.has(parameter);
          }),
          status: cooling ? -1 : 0,
          uptime_last_5m: percent(stats.last5m.uptime),
          uptime_last_30m: percent(stats.last30m.uptime),
          uptime_last_1d: percent(stats.last1d.uptime),
          error_rate_last_5m: percent(stats.last5m.errorRate),
          latency_last_30m: seconds(stats.firstTokenMs),
          duration_last_30m: seconds(stats.latencyMs),
          throughput_last_30m: rounded(stats.tokensPerSecond),
        };
      }),
    },
  };
}

/**
 * Nano-USD per million tokens as dollars per million, markup included, e.g. "2.5"; null when the provider has no
 * such price.
 */
function perMillionUsd(nano: bigint | null, prices: TokenPrices | undefined): string | null {
  return nano === null || prices === undefined ? null : exactDecimal(markedUp(nano, prices), 13);
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
        input: perMillionUsd(endpoint.prices.inputPriceNano, endpoint.prices),
        output: perMillionUsd(endpoint.prices.outputPriceNano, endpoint.prices),
        cache_read: perMillionUsd(endpoint.prices.cacheReadPriceNano, endpoint.prices),
        cache_write: perMillionUsd(endpoint.prices.cacheWritePriceNano, endpoint.prices),
        reasoning: perMillionUsd(
          endpoint.prices.reasoningPriceNano ?? endpoint.prices.outputPriceNano,
          endpoint.prices,
        ),
        request: feeUsd(endpoint.prices.requestPriceNano, endpoint.prices),
        image: feeUsd(endpoint.prices.imagePriceNano, endpoint.prices),
      })),
    })),
  };
  return jsonResponse(200, body);
}
