import { meterCall, noEmittedText, type Metered } from "../billing/meter-call";
import type { GenerationRow } from "../billing/usage-writer";
import { GatewayError } from "../errors";
import { failureOutcome } from "../routing/channel-stats";
import { CallFailure } from "./call-failure";
import type { CallContext, CallOutcome } from "./call-context";

/** What the call costs so far, the same way its settlement will meter it (for the usage shown to the client). */
export function meter(
  context: CallContext,
  outcome: Pick<CallOutcome, "usage" | "completed" | "estimated" | "emitted">,
): Metered {
  return meterCall({
    reported: outcome.usage,
    completed: outcome.completed,
    estimated: outcome.estimated,
    emitted: outcome.emitted ?? noEmittedText(),
    promptTokens: context.prompt.tokens * context.upstreamCalls,
    imageCount: context.prompt.imageCount,
    prices: context.endpoint.prices,
  });
}

/**
 * Queues the generation row and its debit, and shrinks the call's balance hold to its cost (`context.holdSettled`;
 * the batch that writes the debit releases the rest). Every call is settled exactly once, for what was really
 * produced; a second settlement (a failure path after the first) changes nothing.
 */
export function settle(context: CallContext, outcome: CallOutcome): Metered {
  if (context.settlement !== undefined) return context.settlement;
  const { deps, endpoint } = context;
  const metered = meter(context, outcome);
  context.settlement = metered;
  const { usage, costNano } = metered;
  const now = deps.clock();
  const generation: GenerationRow = {
    id: context.generationId,
    requestId: context.request.requestId,
    userId: context.principal.userId,
    apiKeyId: context.principal.apiKeyId,
    modelId: context.model.id,
    channelId: endpoint.channel.id,
    provider: endpoint.channel.provider,
    upstreamModel: endpoint.upstreamModel,
    upstreamId: outcome.upstreamId ?? null,
    streamed: context.streamed,
    cancelled: outcome.cancelled ?? false,
    finishReason: outcome.finishReason ?? null,
    httpStatus: outcome.httpStatus,
    errorType: outcome.errorType ?? null,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    cachedTokens: usage.cachedTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    reasoningTokens: usage.reasoningTokens,
    billingStatus: metered.billingStatus,
    imageCount: context.prompt.imageCount,
    costNano,
    upstreamCostNano: usage.upstreamCostNano ?? null,
    priceVersionId: endpoint.priceVersionId,
    markupBasisPoints: Number(endpoint.prices.markupBasisPoints),
    // Only a call that failed over has attempts worth a column; one attempt is the generation's own channel.
    attempts: context.attempts.length > 1 ? context.attempts : null,
    latencyMs: Math.max(0, Math.round(now - context.startedAt)),
    timeToFirstTokenMs:
      outcome.firstByteAt === undefined || outcome.firstByteAt === null
        ? null
        : Math.max(0, Math.round(outcome.firstByteAt - context.startedAt)),
    createdAt: new Date(context.startedAt),
  };
  deps.usageWriter.enqueue({ generation, costNano });
  // A hold of at most the cost has nothing to give back before its batch (a free model, an estimate that was exact).
  if ((context.holdNano ?? 0n) > costNano) context.holdSettled = deps.holds.settle(context.generationId, costNano);
  recordChannelOutcome(context, outcome, metered, now);
  void deps.rateLimiter.recordTokens(context.principal, metered.usage.promptTokens + metered.usage.completionTokens);
  if (context.request.callAdmitted) {
    deps.observer.callSettled(context.request, {
      generation,
      metered,
      holdNano: context.holdNano ?? 0n,
      channelName: endpoint.channel.name,
      attempts: context.attempts,
    });
  }
  return metered;
}

/** Generation shorter than this is not taken as a measure of throughput. */
const MIN_MEASURED_GENERATION_MS = 50;

/**
 * Adds a call the upstream answered to its channel's statistics: a success with its speed, or a provider error when
 * the answer broke off or was unreadable. Calls that failed before an answer were recorded by failover; a call the
 * client abandoned says nothing about the channel.
 */
function recordChannelOutcome(context: CallContext, outcome: CallOutcome, metered: Metered, now: number): void {
  const since = context.answeringSince;
  if (since === undefined || outcome.cancelled === true) return;
  const { channel, upstreamModel } = context.endpoint;
  if (outcome.httpStatus >= 400 || !outcome.completed) {
    // A fan-out copy can still be refused for the request itself (a 400): that is not the provider failing.
    const failed = outcome.httpStatus >= 400 ? outcome.httpStatus : null;
    context.deps.channelStats.record(channel.id, upstreamModel, { outcome: failureOutcome(failed) });
    return;
  }
  const latencyMs = Math.max(0, now - since);
  const firstByteAt = outcome.firstByteAt ?? null;
  const generatingMs = firstByteAt === null ? latencyMs : now - firstByteAt;
  const outputTokens = metered.usage.completionTokens;
  context.deps.channelStats.record(channel.id, upstreamModel, {
    outcome: "success",
    latencyMs,
    // Only a stream has a first token apart from its last; a whole answer would pass for a slow first token.
    firstTokenMs: firstByteAt === null ? undefined : Math.max(0, firstByteAt - since),
    outputTokens,
    // An answer that came (nearly) in one piece says nothing about how fast the model generates.
    tokensPerSecond:
      outputTokens > 0 && generatingMs >= MIN_MEASURED_GENERATION_MS ? (outputTokens * 1000) / generatingMs : undefined,
  });
}

/** Resolves once the call's settled hold counts for admission (at once when the call is not settled yet). */
export function holdSettled(context: CallContext): Promise<void> {
  return context.holdSettled ?? Promise.resolve();
}

/**
 * Settles a call that got no answer (nothing was produced, nothing is billed, its hold is released) and resolves,
 * once the hold is released, with what to throw. Any error counts: one raised before the upstream was called must
 * release the hold too.
 */
export async function settleFailure(context: CallContext, error: unknown): Promise<unknown> {
  settleFailed(context, error);
  await holdSettled(context);
  return error instanceof CallFailure ? error.error : error;
}

function settleFailed(context: CallContext, error: unknown): void {
  if (error instanceof CallFailure) {
    settle(context, {
      httpStatus: error.httpStatus,
      usage: null,
      completed: false,
      errorType: error.errorType,
      cancelled: error.cancelled,
    });
    return;
  }
  settle(context, {
    httpStatus: error instanceof GatewayError ? error.status : 500,
    usage: null,
    completed: false,
    errorType: error instanceof GatewayError ? error.type : "internal_error",
  });
}
