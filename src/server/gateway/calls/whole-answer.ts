import type { GatewayResponse } from "../http";
import type { AnswerIdentity, WholeAnswerEncoder } from "../encoders/answer-encoder";
import { noEmittedText } from "../billing/meter-call";
import type { ChatCompletion } from "../protocol/chat-completion-response";
import type { CallContext } from "./call-context";
import { fanOutRequest, type CallPlan } from "./call-plan";
import { openWithFailover } from "./failover";
import { openUpstream } from "./open-upstream";
import { emittedByCompletion, readCompletion, type ReadCompletion } from "./read-whole-answer";
import { holdSettled, settle } from "./settle-call";
import { sumTokenUsage, sumUsageObjects } from "./sum-usage";
import { responseHeaders } from "./call-context";

/**
 * The upstream answers that make a whole (non-streamed) answer: one, from the first candidate that answers whole (a
 * body that stalls, breaks off or cannot be read fails over), or one per copy of a fan-out. A fan-out fails with the
 * failure of its first failing copy in copy order; every copy is awaited first, so the failure reported does not
 * depend on timing. A client that goes away aborts every copy (they share its signal).
 */
export async function readWholeAnswers(
  context: CallContext,
  plan: CallPlan,
  signal: AbortSignal,
): Promise<ReadCompletion[]> {
  if (plan.copies === 1) {
    const { answer } = await openWithFailover(context, plan.candidates, plan.buildRequest, signal, async (opened) => ({
      ...opened,
      answer: await readCompletion(context, opened.binding.adapter, opened.upstream, signal),
    }));
    return [answer];
  }
  const { binding, request } = fanOutRequest(context, plan);
  const results = await Promise.allSettled(
    Array.from({ length: plan.copies }, async () => {
      const upstream = await openUpstream(context, binding, request, signal);
      return readCompletion(context, binding.adapter, upstream, signal);
    }),
  );
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<ReadCompletion>).value);
}

/** The call's identity as its answer names it: the model is the one that answered (failover may have changed it). */
export function answerIdentity(context: CallContext): AnswerIdentity {
  return { id: context.generationId, model: context.model.id, created: Math.floor(context.startedAt / 1000) };
}

/**
 * Settles a call whose answers arrived whole and encodes them as one: a fan-out's choices indexed by copy, its usage
 * summed. Exact when every upstream call reported its usage; otherwise what the client receives is counted.
 */
export async function answerWhole(
  context: CallContext,
  answers: readonly ReadCompletion[],
  encode: WholeAnswerEncoder,
): Promise<GatewayResponse> {
  const first = answers[0]!;
  const completion: ChatCompletion =
    answers.length === 1
      ? first.completion
      : {
          ...first.completion,
          choices: answers
            .flatMap((answer) => answer.completion.choices)
            .map((choice, index) => ({ ...choice, index })),
        };
  const everyCallReported = answers.every((answer) => answer.usage !== null);
  const metered = settle(context, {
    httpStatus: 200,
    usage: sumTokenUsage(answers.map((answer) => answer.usage)),
    completed: everyCallReported,
    emitted: everyCallReported ? noEmittedText() : emittedByCompletion(completion),
    finishReason: completion.choices[0]?.finish_reason ?? null,
    upstreamId: first.completion.id || null,
  });
  await holdSettled(context);
  const upstream =
    answers.length === 1 ? (first.completion.usage ?? null) : sumUsageObjects(answers.map((a) => a.completion.usage));
  return {
    status: 200,
    headers: { "content-type": "application/json", ...responseHeaders(context) },
    body: JSON.stringify(encode(answerIdentity(context), completion, { metered, upstream })),
  };
}
