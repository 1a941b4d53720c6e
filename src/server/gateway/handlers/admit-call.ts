import { worstCaseCostNano } from "../billing/compute-cost";
import { promptTokenBound } from "../billing/estimate-tokens";
import { formatNanoAsUsd } from "../billing/money";
import { errors } from "../errors";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { ModelEndpoint } from "../routing/catalog";
import type { CallContext } from "./upstream-call";

/** "$0.0042": money in a message, exact to the nano-dollar. */
function usd(nano: bigint): string {
  return `$${formatNanoAsUsd(nano)}`;
}

/** The most output tokens the call may produce: what the client capped it at, never more than the model can. */
function outputTokenCap(context: CallContext, body: ChatCompletionRequest): number {
  const requested = body.max_completion_tokens ?? body.max_tokens ?? null;
  const modelMax = context.model.maxOutputTokens;
  return requested === null ? modelMax : Math.min(requested, modelMax);
}

/**
 * Reserves the call's worst-case cost before it is dispatched (billing/balance-holds.ts). Refused with 402 when the
 * balance, or the key's spend limit, cannot cover it; the message says how much was needed and what is left.
 */
export async function admitCall(
  context: CallContext,
  body: ChatCompletionRequest,
  candidates: readonly ModelEndpoint[],
): Promise<void> {
  const { deps, principal } = context;
  const choices = body.n ?? 1;
  const outputTokens = outputTokenCap(context, body);
  const bounds = {
    promptTokens: promptTokenBound(context.prompt) * context.upstreamCalls,
    outputTokens: outputTokens * choices,
    imageCount: context.prompt.imageCount * context.upstreamCalls,
  };
  // Failover may end on any candidate: the hold covers the dearest.
  const holdNano = candidates
    .map((candidate) => worstCaseCostNano(bounds, candidate.prices))
    .reduce((dearest, cost) => (cost > dearest ? cost : dearest), 0n);
  const outcome = await deps.holds.place({
    holdId: context.generationId,
    userId: principal.userId,
    apiKeyId: principal.apiKeyId,
    amountNano: holdNano,
  });
  switch (outcome.kind) {
    case "held":
      return;
    case "key_inactive":
      // Revoked, disabled or expired in another process since this one cached the key.
      deps.authenticator.invalidateAll();
      throw errors.invalidKey();
    case "insufficient_credits":
      throw errors.insufficientCredits(
        outcome.availableNano <= 0n
          ? "Your balance is exhausted. Add credits to continue using the API."
          : `This request needs ${usd(holdNano)} of available credit (its prompt plus up to ${outputTokens * choices} ` +
              `output tokens at ${context.model.id}'s prices) but ${usd(outcome.availableNano)} is available. ` +
              "Add credits, or lower max_tokens.",
      );
    case "key_limit_exceeded": {
      const resets = outcome.resetsAt === null ? "" : ` It resets at ${outcome.resetsAt.toISOString()}.`;
      const remaining = outcome.limitNano - outcome.committedNano;
      throw errors.keyLimitExceeded(
        `This key's spend limit of ${usd(outcome.limitNano)} is reached: ${usd(outcome.committedNano)} is spent or ` +
          `reserved by calls in flight, ${usd(remaining > 0n ? remaining : 0n)} remains, and this request needs up ` +
          `to ${usd(holdNano)}.${resets}`,
      );
    }
  }
}
