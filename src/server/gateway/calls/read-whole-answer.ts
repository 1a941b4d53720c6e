import type { TokenUsage } from "../billing/compute-cost";
import { collectEmittedText, noEmittedText, type EmittedText } from "../billing/meter-call";
import { errors } from "../errors";
import type { ChatCompletion } from "../protocol/chat-completion-response";
import { normaliseFinishReason } from "../protocol/finish-reason";
import { fillToolCallIds, toolCallIdMaker } from "../protocol/tool-call-ids";
import { UpstreamTimeoutError, type ProviderAdapter, type UpstreamResponse } from "../providers/types";
import { CallFailure } from "./call-failure";
import type { CallContext } from "./call-context";

export interface ReadCompletion {
  completion: ChatCompletion;
  usage: TokenUsage | null;
}

/**
 * The whole body of an answered (non-streamed) call. Every way of not getting it whole becomes a CallFailure: the
 * client leaving, a body that stalls past its limits, a connection cut before the end (which fails over).
 */
export async function readAnswerText(
  context: CallContext,
  upstream: UpstreamResponse,
  signal: AbortSignal,
): Promise<string> {
  try {
    return await upstream.text();
  } catch (error) {
    if (signal.aborted) throw new CallFailure(errors.clientDisconnected(), "client_disconnected", true);
    if (error instanceof UpstreamTimeoutError) {
      // The headers came in time but the body stalled or outlasted the call's limit: nothing usable, nothing billed.
      context.deps.logger.warn("upstream timed out reading its answer", { channel: context.endpoint.channel.name });
      throw new CallFailure(errors.upstreamTimeout(), "upstream_timeout");
    }
    // The connection was cut before the body was whole: as good as no answer, and another candidate may give one.
    context.deps.logger.warn("upstream answer broke off", { channel: context.endpoint.channel.name, error });
    throw new CallFailure(
      errors.upstreamFailed("The upstream provider's answer broke off before it was complete."),
      "upstream_body_incomplete",
    );
  }
}

/** A whole answer read by `parse`; one it cannot read (not JSON, not the expected shape) is a CallFailure. */
export function parseAnswer<T>(context: CallContext, text: string, parse: (json: unknown) => T): T {
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    context.deps.logger.warn("upstream answered garbage", { channel: context.endpoint.channel.name, error });
    throw new CallFailure(
      errors.upstreamFailed("The upstream provider returned an invalid response."),
      "upstream_invalid_response",
    );
  }
}

/** Reads and checks a non-streamed answer, finish reasons normalised and every tool call with an id. */
export async function readCompletion(
  context: CallContext,
  adapter: ProviderAdapter,
  upstream: UpstreamResponse,
  signal: AbortSignal,
): Promise<ReadCompletion> {
  const text = await readAnswerText(context, upstream, signal);
  const completion: ChatCompletion = parseAnswer(context, text, (json) => adapter.parseResponse(json));
  completion.choices = completion.choices.map((choice) => ({
    ...choice,
    finish_reason: normaliseFinishReason(choice.finish_reason),
    native_finish_reason: choice.native_finish_reason ?? choice.finish_reason,
  }));
  fillToolCallIds(completion.choices, toolCallIdMaker(context.deps.newGenerationId));
  return { completion, usage: adapter.parseUsage(completion.usage) };
}

/** What the client received in a non-streamed answer, for metering when the upstream reported no usage. */
export function emittedByCompletion(completion: ChatCompletion): EmittedText {
  const emitted = noEmittedText();
  for (const choice of completion.choices) collectEmittedText(emitted, choice.message);
  return emitted;
}
