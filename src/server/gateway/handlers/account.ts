import { formatNanoAsUsd, nanoToUsdNumber } from "../billing/money";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import { jsonResponse, type GatewayRequest, type GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { Credits, GenerationInfo, KeyInfo } from "../protocol/api-schemas";

const usd = (nano: bigint) => nanoToUsdNumber(nano);

/** GET /v1/key: what this key is, what it may do and what it has spent (OpenRouter's shape, under `data`). */
export async function handleKeyInfo(principal: Principal, deps: GatewayDeps): Promise<GatewayResponse> {
  const now = new Date(deps.clock());
  const [details, spend] = await Promise.all([
    deps.accounts.keyDetails(principal.apiKeyId),
    deps.accounts.keySpend(principal.apiKeyId, now),
  ]);
  if (details === null) throw errors.invalidKey();
  const body: KeyInfo = {
    data: {
      name: details.name,
      label: details.prefix,
      usage: usd(spend.totalNano),
      usage_daily: usd(spend.dailyNano),
      usage_weekly: usd(spend.weeklyNano),
      usage_monthly: usd(spend.monthlyNano),
      // Keys carry no spend limit yet: null means the account balance is the only limit.
      limit: null,
      limit_remaining: null,
      limit_reset: null,
      allowed_models: details.allowedModels,
      rate_limit: null,
      created_at: details.createdAt.toISOString(),
      expires_at: details.expiresAt?.toISOString() ?? null,
    },
  };
  return jsonResponse(200, body);
}

/** GET /v1/credits: everything credited to the account and everything spent (their difference is the balance). */
export async function handleCredits(principal: Principal, deps: GatewayDeps): Promise<GatewayResponse> {
  const totals = await deps.accounts.totals(principal.userId);
  const pendingNano = deps.usageWriter.pendingDebitNano(principal.userId);
  const usageNano = totals.totalUsageNano + pendingNano;
  const body: Credits = {
    data: {
      total_credits: usd(totals.totalCreditsNano),
      total_usage: usd(usageNano),
      balance: formatNanoAsUsd(totals.totalCreditsNano - usageNano),
    },
  };
  return jsonResponse(200, body);
}

/** GET /v1/generation?id=…: one of this account's generations, with what it used, cost and took. */
export async function handleGeneration(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
): Promise<GatewayResponse> {
  const id = request.query.get("id");
  if (id === null || id === "") {
    throw errors.invalidRequest("Missing required parameter: `id`.", "id", "missing_required_parameter");
  }
  // A generation finished a moment ago may still be waiting for the usage writer's next batch.
  const row = deps.usageWriter.pendingGeneration(id) ?? (await deps.accounts.generation(principal.userId, id));
  if (row === null || row.userId !== principal.userId) throw errors.generationNotFound(id);
  const body: GenerationInfo = {
    data: {
      id: row.id,
      model: row.modelId,
      provider_name: row.provider,
      upstream_model: row.upstreamModel,
      upstream_id: row.upstreamId ?? null,
      created_at: row.createdAt.toISOString(),
      streamed: row.streamed,
      cancelled: row.cancelled ?? false,
      finish_reason: row.finishReason ?? null,
      status: row.httpStatus,
      error_type: row.errorType ?? null,
      // Tokens as the gateway bills them, then as the provider reported them (the same counts: we bill the provider's).
      tokens_prompt: row.promptTokens ?? 0,
      tokens_completion: row.completionTokens ?? 0,
      native_tokens_prompt: row.promptTokens ?? 0,
      native_tokens_completion: row.completionTokens ?? 0,
      native_tokens_cached: row.cachedTokens ?? 0,
      native_tokens_cache_write: row.cacheWriteTokens ?? 0,
      native_tokens_reasoning: row.reasoningTokens ?? 0,
      total_cost: usd(row.costNano ?? 0n),
      latency: row.latencyMs,
      time_to_first_token: row.timeToFirstTokenMs ?? null,
    },
  };
  return jsonResponse(200, body);
}
