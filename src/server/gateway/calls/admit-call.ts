import { worstCaseCostNano } from "../billing/compute-cost";
import { promptTokenBound } from "../billing/estimate-tokens";
import { formatNanoAsUsd } from "../billing/money";
import { errors } from "../errors";
import { keyStateAt, type InactiveKeyState } from "../keys/api-key-authenticator";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { CatalogModel } from "../routing/catalog";
import type { Candidate } from "../routing/select-candidates";
import type { CallContext } from "./call-context";

/** "$0.0042": money in a message, exact to the nano-dollar. */
function usd(nano: bigint): string {
  return `$${formatNanoAsUsd(nano)}`;
}

/** The most output tokens a model may produce for the call: what the client capped it at, never more than it can. */
function outputTokenCap(model: CatalogModel, body: ChatCompletionRequest): number {
  const requested = body.max_completion_tokens ?? body.max_tokens ?? null;
  return requested === null ? model.maxOutputTokens : Math.min(requested, model.maxOutputTokens);
}

/**
 * What a call may consume beyond its prompt (which the context measures), for its hold: the output tokens it may
 * produce on a candidate's model, every choice counted.
 */
export interface CallBounds {
  outputTokens(model: CatalogModel): number;
}

/** A chat completion's bounds: its output cap (the client's, never more than the model's) times its choices. */
export function chatCallBounds(body: ChatCompletionRequest): CallBounds {
  const choices = body.n ?? 1;
  return { outputTokens: (model) => outputTokenCap(model, body) * choices };
}

/** A call that produces no tokens (embeddings): its input is all it is billed for. */
export const INPUT_ONLY: CallBounds = { outputTokens: () => 0 };

/** Which of revoked, disabled or expired the key became: one read of the key, only on this rare refusal. */
async function inactiveKeyState(context: CallContext): Promise<InactiveKeyState | null> {
  const { deps, principal } = context;
  try {
    const key = await deps.accounts.keyDetails(principal.apiKeyId);
    if (key === null) return null;
    const state = keyStateAt(key, deps.clock());
    return state === "active" ? null : state;
  } catch (error) {
    deps.logger.warn("reading a refused key's state failed", { error, apiKeyId: principal.apiKeyId });
    return null;
  }
}

/** An account that never had credit is not told its balance is exhausted: one read, only on this refusal. */
async function noCreditMessage(context: CallContext): Promise<string> {
  const { deps, principal } = context;
  try {
    return (await deps.accounts.wasEverCredited(principal.userId))
      ? "Your balance is exhausted. Add credits to continue using the API."
      : "Your account has no credits yet. Add credits to start using the API.";
  } catch (error) {
    deps.logger.warn("reading whether an account was ever credited failed", { error, userId: principal.userId });
    return "Your account has no available credit. Add credits to use the API.";
  }
}

/**
 * Reserves the call's worst-case cost before it is dispatched (billing/balance-holds.ts). Refused with 402 when the
 * balance, or the key's spend limit, cannot cover it; the message says how much was needed and what is left. Waits
 * first while the usage writer is too far behind.
 */
export async function admitCall(
  context: CallContext,
  bounds: CallBounds,
  candidates: readonly Candidate[],
): Promise<void> {
  const { deps, principal } = context;
  // While the usage writer is behind by more than its bound, a new call waits for it (usage-writer.ts): otherwise a
  // database slower than the traffic grows the queue of unwritten usage without end.
  const backpressure = deps.usageWriter.backpressure();
  if (backpressure !== undefined) await backpressure;
  const outputTokens = Math.max(...candidates.map((candidate) => bounds.outputTokens(candidate.model)));
  // Failover may end on any candidate: the hold covers the dearest.
  const holdNano = candidates
    .map((candidate) =>
      worstCaseCostNano(
        {
          promptTokens: promptTokenBound(context.prompt) * context.upstreamCalls,
          outputTokens: bounds.outputTokens(candidate.model),
          imageCount: context.prompt.imageCount * context.upstreamCalls,
        },
        candidate.endpoint.prices,
      ),
    )
    .reduce((dearest, cost) => (cost > dearest ? cost : dearest), 0n);
  const outcome = await deps.holds.place({
    holdId: context.generationId,
    userId: principal.userId,
    apiKeyId: principal.apiKeyId,
    keyHasSpendLimit: principal.spendLimited,
    amountNano: holdNano,
  });
  switch (outcome.kind) {
    case "held":
      context.holdNano = holdNano;
      context.request.callAdmitted = true;
      deps.observer.callAdmitted(holdNano);
      return;
    case "key_inactive":
      // Revoked, disabled or expired in another process since this one cached the key.
      deps.authenticator.invalidateKey(principal.apiKeyId);
      throw errors.inactiveKey(await inactiveKeyState(context));
    case "insufficient_credits":
      throw errors.insufficientCredits(
        outcome.availableNano <= 0n
          ? await noCreditMessage(context)
          : outputTokens > 0
            ? `This request needs ${usd(holdNano)} of available credit (its prompt plus up to ${outputTokens} ` +
              `output tokens at ${context.model.id}'s prices) but ${usd(outcome.availableNano)} is available. ` +
              "Add credits, or lower max_tokens."
            : `This request needs ${usd(holdNano)} of available credit (its input at ${context.model.id}'s ` +
              `prices) but ${usd(outcome.availableNano)} is available. Add credits, or send less input.`,
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
