import { formatNanoAsUsd, nanoToUsdNumber } from "../billing/money";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import { jsonResponse, type GatewayRequest, type GatewayResponse } from "../http";
import type { GenerationAttempt } from "~/server/db/schema";
import type { KeyDetails, StoredGeneration } from "../accounts/account-reader";
import { currentPeriodStart } from "../billing/balance-holds";
import type { Principal } from "../keys/api-key-authenticator";
import type { Activity, Credits, GenerationInfo, KeyInfo } from "../protocol/api-schemas";

const usd = (nano: bigint) => nanoToUsdNumber(nano);

/** GET /v1/key: what this key is, what it may do and what it has spent (OpenRouter's shape, under `data`). */
export async function handleKeyInfo(principal: Principal, deps: GatewayDeps): Promise<GatewayResponse> {
  const now = new Date(deps.clock());
  const [details, spend, keyHeldNano] = await Promise.all([
    deps.accounts.keyDetails(principal.apiKeyId),
    deps.accounts.keySpend(principal.apiKeyId, now),
    deps.holds.keyHeldNano(principal.apiKeyId),
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
      limit: details.spendLimitNano === null ? null : usd(details.spendLimitNano),
      limit_remaining: details.spendLimitNano === null ? null : usd(limitRemainingNano(details, keyHeldNano, now)),
      limit_reset: details.limitReset,
      allowed_models: details.allowedModels,
      rate_limit: null,
      created_at: details.createdAt.toISOString(),
      expires_at: details.expiresAt?.toISOString() ?? null,
    },
  };
  return jsonResponse(200, body);
}

/**
 * What the key may still spend in its current period: its limit less the period's settled spend (none if the
 * period it was counted in has ended) and its calls in flight. The same rule admission applies.
 */
function limitRemainingNano(details: KeyDetails, heldNano: bigint, now: Date): bigint {
  const limit = details.spendLimitNano ?? 0n;
  const periodStart = currentPeriodStart(details.limitReset, now)?.getTime() ?? null;
  const countsNow = (details.periodStartedAt?.getTime() ?? null) === periodStart;
  const remaining = limit - (countsNow ? details.periodSpendNano : 0n) - heldNano;
  return remaining > 0n ? remaining : 0n;
}

/**
 * GET /v1/credits: everything credited to the account and everything spent (their difference is the balance), and
 * how much of the balance calls in flight have reserved.
 */
export async function handleCredits(principal: Principal, deps: GatewayDeps): Promise<GatewayResponse> {
  const [totals, heldNano] = await Promise.all([
    deps.accounts.totals(principal.userId),
    deps.holds.heldNano(principal.userId),
  ]);
  const pendingNano = deps.usageWriter.pendingDebitNano(principal.userId);
  const usageNano = totals.totalUsageNano + pendingNano;
  const balanceNano = totals.totalCreditsNano - usageNano;
  // Exactly what admission compares a new hold with: a call whose debit is still queued keeps its hold (released
  // in the same write as the debit), so the committed balance less the holds counts it once.
  const availableNano = totals.totalCreditsNano - totals.totalUsageNano - heldNano;
  const body: Credits = {
    data: {
      total_credits: usd(totals.totalCreditsNano),
      total_usage: usd(usageNano),
      balance: formatNanoAsUsd(balanceNano),
      held: formatNanoAsUsd(heldNano),
      available: formatNanoAsUsd(availableNano),
    },
  };
  return jsonResponse(200, body);
}

/** The one attempt of a call that did not fail over: its generation's own channel, status and latency. */
function onlyAttempt(row: StoredGeneration, deps: GatewayDeps): GenerationAttempt {
  const channelName =
    deps.catalog
      .listModels()
      .flatMap((model) => model.endpoints)
      .find((endpoint) => endpoint.channel.id === row.channelId)?.channel.name ?? row.provider;
  return {
    channelId: row.channelId ?? "",
    channelName,
    provider: row.provider,
    upstreamModel: row.upstreamModel,
    status: row.httpStatus,
    latencyMs: row.latencyMs,
    errorType: row.errorType ?? null,
  };
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
      request_id: row.requestId ?? null,
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
      billing_status: row.billingStatus ?? "void",
      // Tokens as the gateway bills them, then as the provider reported them (the same counts: we bill the provider's).
      tokens_prompt: row.promptTokens ?? 0,
      tokens_completion: row.completionTokens ?? 0,
      native_tokens_prompt: row.promptTokens ?? 0,
      native_tokens_completion: row.completionTokens ?? 0,
      native_tokens_cached: row.cachedTokens ?? 0,
      native_tokens_cache_write: row.cacheWriteTokens ?? 0,
      native_tokens_reasoning: row.reasoningTokens ?? 0,
      total_cost: usd(row.costNano ?? 0n),
      // Every upstream attempt, in order: which channel, how it ended, how long it took. Never keys or bodies.
      attempts: (row.attempts ?? [onlyAttempt(row, deps)]).map((attempt) => ({
        channel: attempt.channelName,
        provider: attempt.provider,
        upstream_model: attempt.upstreamModel,
        status: attempt.status,
        latency: attempt.latencyMs,
        error_type: attempt.errorType,
      })),
      latency: row.latencyMs,
      time_to_first_token: row.timeToFirstTokenMs ?? null,
    },
  };
  return jsonResponse(200, body);
}

const DAY_MS = 86_400_000;
/** How many complete UTC days `/v1/activity` covers, as OpenRouter's does. */
const ACTIVITY_DAYS = 30;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * GET /v1/activity: the account's usage per UTC day, model and provider over the last 30 complete UTC days (today,
 * still running, is left out), newest day first, in OpenRouter's row shape; `date` narrows it to one of those days,
 * `key` to the calls of one of the account's keys (by id or display prefix). Read from the hourly rollup, which is
 * written with the usage: a call shows here once its batch is written (within `USAGE_FLUSH_MS`).
 */
export async function handleActivity(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
): Promise<GatewayResponse> {
  const today = Math.floor(deps.clock() / DAY_MS) * DAY_MS;
  let from = today - ACTIVITY_DAYS * DAY_MS;
  let to = today;
  const date = request.query.get("date");
  if (date !== null) {
    const day = DATE_PATTERN.test(date) ? Date.parse(`${date}T00:00:00Z`) : Number.NaN;
    if (Number.isNaN(day) || isoDay(day) !== date) {
      throw errors.invalidRequest("`date` must be a day written YYYY-MM-DD.", "date", "invalid_value");
    }
    if (day < from || day >= to) {
      throw errors.invalidRequest(
        `\`date\` must be one of the last ${ACTIVITY_DAYS} complete UTC days: ${isoDay(from)} to ${isoDay(to - DAY_MS)}.`,
        "date",
        "invalid_value",
      );
    }
    from = day;
    to = day + DAY_MS;
  }
  const key = request.query.get("key")?.trim() ?? null;
  let apiKeyId: string | null = null;
  if (key !== null) {
    apiKeyId = key === "" ? null : await deps.accounts.findKeyId(principal.userId, key);
    if (apiKeyId === null) {
      throw errors.invalidRequest(
        "`key` must name one of this account's keys, by id or display prefix (sk-gw-1a2b3c4d).",
        "key",
        "invalid_value",
      );
    }
  }
  const rows = await deps.accounts.dailyActivity(principal.userId, {
    from: new Date(from),
    to: new Date(to),
    apiKeyId,
  });
  const body: Activity = {
    data: rows.map((row) => ({
      date: row.date,
      model: row.modelId,
      model_permaslug: row.modelId,
      provider_name: row.provider,
      usage: usd(row.costNano),
      byok_usage_inference: 0,
      requests: row.requests,
      prompt_tokens: row.promptTokens,
      completion_tokens: row.completionTokens,
      reasoning_tokens: row.reasoningTokens,
    })),
  };
  return jsonResponse(200, body);
}
