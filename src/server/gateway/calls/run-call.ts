import { measurePrompt, type PromptMeasure } from "../billing/estimate-tokens";
import type { GatewayDeps } from "../deps";
import type { StreamFormat, WholeAnswerEncoder } from "../encoders/answer-encoder";
import { errors } from "../errors";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import { inlineImageUrls } from "../net/inline-image-urls";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { AnthropicOptions } from "../providers/types";
import type { CatalogModel, ResolvedChannel } from "../routing/catalog";
import { embeddingModelOnChat, isEmbeddingModel } from "../routing/model-kind";
import { findModel } from "../routing/find-model";
import { routeCandidates } from "../routing/route-candidates";
import { settleWithin, STILL_PENDING } from "../sse/keep-alive";
import { admitCall, chatCallBounds } from "./admit-call";
import type { CallContext } from "./call-context";
import type { CallPlan } from "./call-plan";
import { openStreams } from "./open-streams";
import { relayStream } from "./relay-stream";
import { settleFailure } from "./settle-call";
import { answerWhole, readWholeAnswers } from "./whole-answer";

/** Where `n` is fanned out, each choice is a whole upstream call: this bounds what one request can start. */
const MAX_FANNED_OUT_CHOICES = 16;

/**
 * Whether the upstream answers `n` itself: only channels that speak OpenAI's API, for models the catalog lists as
 * supporting it. Everything else (the demo upstream included, which always answers one choice) is fanned out.
 */
function answersNNatively(model: CatalogModel, channel: ResolvedChannel): boolean {
  return (channel.kind === "openai" || channel.kind === "openai-compatible") && model.supportedParameters.includes("n");
}

function oneChoice(body: ChatCompletionRequest): ChatCompletionRequest {
  const single = { ...body };
  delete single.n;
  return single;
}

/** How one door answers: its streamed format and its whole body. */
export interface AnswerFormats {
  stream: (prompt: PromptMeasure) => StreamFormat;
  whole: WholeAnswerEncoder;
}

export interface CallRequest {
  /** The request as operators see it: its id, when it arrived, where from. */
  record: RequestRecord;
  /** The request in the gateway's common form (OpenAI's chat completion request with OpenRouter's extensions). */
  body: ChatCompletionRequest;
  formats: AnswerFormats;
  /** What a client of the Anthropic door asked for that only Anthropic channels take. */
  anthropic?: AnthropicOptions;
}

/**
 * One completion call, whatever door it came in by: the model checked against the catalog and the key, candidates
 * routed, images inlined for providers that cannot fetch them, the worst case held, then a whole answer or a stream
 * relayed in the door's format. From the hold on, every way out settles the call, which releases the hold.
 */
export async function runCall(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  call: CallRequest,
): Promise<GatewayResponse> {
  let { body } = call;
  const model = findModel(deps, principal, body.model);
  if (isEmbeddingModel(model)) throw embeddingModelOnChat(model.id, "model");
  (body.models ?? []).forEach((id, index) => {
    const fallback = deps.catalog.getModel(id);
    if (fallback !== undefined && isEmbeddingModel(fallback)) throw embeddingModelOnChat(id, `models[${index}]`);
  });

  // Candidates in the order to try them; failover walks this list when an upstream fails before answering.
  const candidates = routeCandidates(body, model, principal, deps);
  // Until failover settles on another, the call is the first candidate's (possibly a `models` fallback).
  const first = candidates[0]!;
  const { endpoint } = first;
  const streamed = body.stream === true;
  const choices = body.n ?? 1;
  const fannedOut = choices > 1 && !answersNNatively(first.model, endpoint.channel);
  if (fannedOut && choices > MAX_FANNED_OUT_CHOICES) {
    throw errors.invalidRequest(
      `Invalid value for \`n\`: \`${model.id}\` makes one upstream call per choice, so at most ${MAX_FANNED_OUT_CHOICES} choices can be asked for.`,
      "n",
      "invalid_value",
    );
  }
  const context: CallContext = {
    deps,
    principal,
    model: first.model,
    endpoint,
    generationId: deps.newGenerationId(),
    startedAt: call.record.startedAt,
    request: call.record,
    streamed,
    prompt: measurePrompt(body),
    upstreamCalls: fannedOut ? choices : 1,
    attempts: [],
  };
  // Providers that cannot fetch image URLs get the images downloaded here, once for every choice of a fan-out. An
  // image that cannot be fetched is a 400 about the request, like any other bad input: before anything is held.
  // A fan-out stays on the first candidate; a single call may fail over to any, so images are inlined if any needs it.
  const tried = fannedOut ? candidates.slice(0, 1) : candidates;
  if (tried.some(({ endpoint }) => deps.providers.forChannel(endpoint.channel).adapter.inlinesImageUrls === true)) {
    body = await inlineImageUrls(body, deps.fetchImage, request.signal);
  }
  // From here on the call holds part of the balance: every way out settles it, which releases the hold.
  await admitCall(context, chatCallBounds(body), tried);
  // A fan-out sends every copy the request for one choice.
  const sent = fannedOut ? oneChoice(body) : body;
  const plan: CallPlan = {
    candidates,
    copies: fannedOut ? choices : 1,
    buildRequest: (candidate, binding) =>
      binding.adapter.buildRequest({
        request: sent,
        upstreamModel: candidate.endpoint.upstreamModel,
        channel: candidate.endpoint.channel,
        stream: streamed,
        maxOutputTokens: candidate.model.maxOutputTokens,
        anthropic: call.anthropic,
      }),
  };
  try {
    if (!streamed) {
      return await answerWhole(context, await readWholeAnswers(context, plan, request.signal), call.formats.whole);
    }
    const opening = openStreams(context, plan, request.signal);
    // A stream whose upstream answers within the keep-alive interval gets a real HTTP error if the upstream refuses;
    // after that the response is committed (200, SSE) so that keep-alive beats can go out while it waits (and
    // failover goes on behind them: nothing of an answer has been sent yet).
    const opened = await settleWithin(opening, deps.streamKeepAliveMs);
    const format = call.formats.stream(context.prompt);
    return relayStream(context, opened === STILL_PENDING ? opening : opened, format, request.signal);
  } catch (error) {
    throw await settleFailure(context, error);
  }
}
