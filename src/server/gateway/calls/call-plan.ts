import type { ProviderBinding } from "../providers/registry";
import type { UpstreamHttpRequest } from "../providers/types";
import type { Candidate } from "../routing/select-candidates";
import type { CallContext } from "./call-context";

/** How a request is sent upstream, whatever door it came in by. */
export interface CallPlan {
  /** The candidates in the order to try them; failover walks them, a fan-out stays on the first. */
  candidates: readonly Candidate[];
  /**
   * Upstream calls that make the answer: 1, or for a fanned-out `n` one per choice, each asking the first candidate
   * for one choice and billed as one call.
   */
  copies: number;
  /** The request for a candidate, as its provider takes it (for a fan-out, a request for one choice). */
  buildRequest: (candidate: Candidate, binding: ProviderBinding) => UpstreamHttpRequest;
}

/**
 * The one request every copy of a fan-out sends, to the first candidate: a fan-out does not fail over, so that
 * channel's statistics record how the call ends, from now.
 */
export function fanOutRequest(
  context: CallContext,
  plan: CallPlan,
): { binding: ProviderBinding; request: UpstreamHttpRequest } {
  const { endpoint } = plan.candidates[0]!;
  const binding = context.deps.providers.forChannel(endpoint.channel);
  const request = plan.buildRequest(plan.candidates[0]!, binding);
  context.droppedParameters = request.droppedParameters;
  context.answeringSince = context.deps.clock();
  return { binding, request };
}
