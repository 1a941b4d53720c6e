import type { TokenUsage } from "../billing/compute-cost";
import { measurePrompt } from "../billing/estimate-tokens";
import { collectEmittedText, noEmittedText } from "../billing/meter-call";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import { inlineImageUrls } from "../net/inline-image-urls";
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { ChatCompletionChunk } from "../protocol/chat-completion-response";
import { describeIssue } from "../protocol/describe-issue";
import { normaliseFinishReason } from "../protocol/finish-reason";
import { renderUsage, withoutUsage } from "../protocol/render-usage";
import { createStreamToolCallIds, toolCallIdMaker } from "../protocol/tool-call-ids";
import type { ProviderAdapter, SseEvent, StreamItem, UpstreamErrorInfo } from "../providers/types";
import type { ProviderBinding } from "../providers/registry";
import type { CatalogModel, ResolvedChannel } from "../routing/catalog";
import { selectCandidates, type Candidate } from "../routing/select-candidates";
import { encodeSseData, SSE_DONE, SSE_HEADERS } from "../sse/encode-sse";
import { KEEP_ALIVE_COMMENT, keepAliveWhile, resumeWith, settleWithin, STILL_PENDING } from "../sse/keep-alive";
import { admitCall } from "./admit-call";
import { fanOutCompletions } from "./fan-out";
import { openWithFailover } from "./failover";
import { startStream, type StartedStream } from "./stream-start";
import {
  CLIENT_CLOSED_REQUEST,
  completionResponse,
  emittedByCompletion,
  encodeStreamError,
  holdSettled,
  meter,
  readCompletion,
  responseHeaders,
  settle,
  settleFailure,
  STREAM_ENDED_EARLY,
  streamFailure,
  type CallContext,
  type ReadCompletion,
} from "./upstream-call";

export function parseChatRequest(body: Uint8Array): ChatCompletionRequest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    throw errors.invalidRequest("The request body is not valid JSON.", null, "invalid_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw errors.invalidRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  const parsed = chatCompletionRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) throw errors.invalidRequest("Invalid request.");
    const { message, param, code } = describeIssue(issue, json);
    throw errors.invalidRequest(message, param, code);
  }
  return parsed.data;
}

/** Where `n` is fanned out, each choice is a whole upstream call: this bounds what one request can start. */
const MAX_FANNED_OUT_CHOICES = 16;

/**
 * Whether the upstream answers `n` itself: only channels that speak OpenAI's API, for models the catalog lists as
 * supporting it. Everything else (the demo upstream included, which always answers one choice) is fanned out.
 */
function answersNNatively(model: CatalogModel, channel: ResolvedChannel): boolean {
  return (channel.kind === "openai" || channel.kind === "openai-compatible") && model.supportedParameters.includes("n");
}

/** Request fields that are not parameters a provider must carry (for `provider.require_parameters`). */
const NOT_PROVIDER_PARAMETERS = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "user",
  "models",
  "route",
  "provider",
]);

/**
 * The requested model then its `models` fallbacks (each known and allowed for this key), narrowed and ordered by the
 * request's `provider` preferences. Refuses with 400 naming the constraint when the preferences exclude every
 * provider.
 */
function routeCandidates(
  body: ChatCompletionRequest,
  model: CatalogModel,
  principal: Principal,
  deps: GatewayDeps,
): Candidate[] {
  const models = [model];
  (body.models ?? []).forEach((id, index) => {
    const fallback = deps.catalog.getModel(id);
    if (fallback === undefined || fallback.endpoints.length === 0) {
      throw errors.invalidRequest(`Unknown fallback model \`${id}\`.`, `models[${index}]`, "model_not_found");
    }
    if (principal.allowedModels !== null && !principal.allowedModels.has(fallback.id)) {
      throw errors.modelNotAllowed(fallback.id);
    }
    if (!models.includes(fallback)) models.push(fallback);
  });
  const selection = selectCandidates({
    models,
    preferences: body.provider,
    requestParameters: Object.keys(body).filter((name) => !NOT_PROVIDER_PARAMETERS.has(name)),
    carries: (endpoint, parameter) => {
      const supported = deps.providers.forChannel(endpoint.channel).adapter.supportedParameters;
      return supported === undefined || supported.has(parameter);
    },
    statsOf: (endpoint) => deps.channelStats.get(endpoint.channel.id, endpoint.upstreamModel),
    random: deps.random,
  });
  if ("excludedBy" in selection) {
    throw errors.invalidRequest(
      `No provider of \`${model.id}\` satisfies \`${selection.excludedBy}\`: relax it to let the call through.`,
      selection.excludedBy,
      "no_provider_matches",
    );
  }
  return selection.candidates;
}

/** POST /v1/chat/completions: validate, admit, route, call the upstream, meter, answer in OpenAI's format. */
export async function handleChatCompletions(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
): Promise<GatewayResponse> {
  const startedAt = deps.clock();
  let body = parseChatRequest(request.body);
  const model = deps.catalog.getModel(body.model);
  if (model === undefined || model.endpoints.length === 0) throw errors.modelNotFound(body.model);
  if (principal.allowedModels !== null && !principal.allowedModels.has(model.id)) {
    throw errors.modelNotAllowed(model.id);
  }

  // Candidates in the order to try them; failover walks this list when an upstream fails before answering.
  const candidates = routeCandidates(body, model, principal, deps);
  // Until failover settles on another, the call is the first candidate's (possibly a `models` fallback).
  const first = candidates[0]!;
  const { endpoint } = first;
  const streamed = body.stream === true;
  const choices = body.n ?? 1;
  const binding = deps.providers.forChannel(endpoint.channel);
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
    startedAt,
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
  await admitCall(context, body, tried);
  try {
    if (fannedOut) return await fanOutCompletions(context, binding, body, choices, request.signal);

    const buildRequest = (candidate: Candidate, candidateBinding: ProviderBinding) =>
      candidateBinding.adapter.buildRequest({
        request: body,
        upstreamModel: candidate.endpoint.upstreamModel,
        channel: candidate.endpoint.channel,
        stream: streamed,
        maxOutputTokens: candidate.model.maxOutputTokens,
      });
    if (!streamed) {
      // A whole answer counts as answered once its body is read whole: one that stalls or breaks off fails over.
      const { answer } = await openWithFailover(context, candidates, buildRequest, request.signal, async (opened) => ({
        ...opened,
        answer: await readCompletion(context, opened.binding.adapter, opened.upstream, request.signal),
      }));
      return await completeOnce(context, answer);
    }
    // A stream counts as answered once its first chunk arrives: an in-band refusal before it still fails over.
    const opening = openWithFailover(context, candidates, buildRequest, request.signal, (opened) =>
      startStream(opened, request.signal, deps.clock),
    );

    // A stream whose upstream answers within the keep-alive interval gets a real HTTP error if the upstream refuses;
    // after that the response is committed (200, SSE) so that keep-alive comments can go out while it waits (and
    // failover goes on behind them: nothing of an answer has been sent yet).
    const opened = await settleWithin(opening, deps.streamKeepAliveMs);
    return streamCompletion(context, opened === STILL_PENDING ? opening : opened, body, request.signal);
  } catch (error) {
    throw await settleFailure(context, error);
  }
}

async function completeOnce(context: CallContext, read: ReadCompletion): Promise<GatewayResponse> {
  const { completion, usage } = read;
  const metered = settle(context, {
    httpStatus: 200,
    usage,
    completed: true,
    // Counted only when the upstream reported no usage.
    emitted: usage === null ? emittedByCompletion(completion) : noEmittedText(),
    finishReason: completion.choices[0]?.finish_reason ?? null,
    upstreamId: completion.id || null,
  });
  await holdSettled(context);
  return completionResponse(context, completion, metered, completion.usage);
}

/** Reads an upstream body to its end, ignoring what it holds and any failure: its answer is already whole. */
async function readToEnd(reads: AsyncIterator<unknown>): Promise<void> {
  try {
    while ((await reads.next()).done !== true);
  } catch {
    // Nothing more was expected from it.
  }
}

/**
 * Streams one upstream call. `upstream` is still pending when the response was committed before the upstream
 * answered; the stream then opens with keep-alive comments, and an upstream failure becomes the in-band error event.
 */
function streamCompletion(
  context: CallContext,
  upstream: StartedStream | Promise<StartedStream>,
  body: ChatCompletionRequest,
  signal: AbortSignal,
): GatewayResponse {
  const clientWantsUsageChunk = body.stream_options?.include_usage === true;
  const created = Math.floor(context.startedAt / 1000);
  const keepAliveMs = context.deps.streamKeepAliveMs;

  async function* events(): AsyncGenerator<string> {
    let usage: TokenUsage | null = null;
    let upstreamUsage: ChatCompletionChunk["usage"] = null;
    let upstreamId: string | null = null;
    let finishReason: string | null = null;
    // The finish chunk is held back until the usage arrives (OpenAI sends usage in a separate, later chunk) so it
    // can carry usage and cost itself.
    let heldFinish: ChatCompletionChunk | null = null;
    let firstByteAt: number | null = null;
    let failure: UpstreamErrorInfo | null = null;
    // What the generation records when it differs from the type the client is told (`upstream_timeout`, …).
    let failureErrorType: string | null = null;
    let answered = false;
    let completed = false;
    let settled = false;

    // The adapter hands over chunks it built for this call alone, so they are stamped in place.
    const stamp = (chunk: ChatCompletionChunk): ChatCompletionChunk => {
      upstreamId ??= chunk.id || null;
      chunk.id = context.generationId;
      chunk.object = "chat.completion.chunk";
      chunk.created ||= created;
      chunk.model = context.model.id;
      return chunk;
    };
    // What the client has received, for the bill when the upstream reports no usage or the stream is cut.
    const emitted = noEmittedText();
    // Only the finishing chunks are priced, so the stream is taken as complete: the usage shown is what settles.
    const priced = (chunk: ChatCompletionChunk): ChatCompletionChunk => {
      const metered = meter(context, { usage, completed: true, emitted });
      return { ...chunk, usage: renderUsage(metered.usage, metered.costNano, upstreamUsage) };
    };
    // Usage goes out once, on the last chunk (see withoutUsage): the finish chunk, or after it the usage chunk.
    const finishing = (chunk: ChatCompletionChunk): ChatCompletionChunk =>
      clientWantsUsageChunk ? withoutUsage(chunk, true) : priced(chunk);
    const finish = () => {
      if (settled) return;
      settled = true;
      // Ended with no failure before the upstream answered: the client left while it waited.
      const leftWaiting = failure === null && !answered;
      settle(context, {
        httpStatus: failure !== null ? failure.status : leftWaiting ? CLIENT_CLOSED_REQUEST : 200,
        usage,
        completed: completed && failure === null,
        emitted,
        finishReason: failure === null ? finishReason : "error",
        errorType: failureErrorType ?? failure?.type ?? (leftWaiting ? "client_disconnected" : null),
        upstreamId,
        cancelled: !completed && failure === null,
        firstByteAt,
      });
    };

    // What one upstream read produced for the client, sent as one write.
    let out = "";
    // Whether OpenAI's trailing usage-only chunk has gone out.
    let usageChunkSent = false;
    // Choice indexes whose first delta has gone out.
    const announced = new Set<number>();
    const giveToolCallIds = createStreamToolCallIds(toolCallIdMaker(context.deps.newGenerationId));
    const translate = (
      event: SseEvent,
      transform: (event: SseEvent) => StreamItem[],
      adapter: ProviderAdapter,
    ): void => {
      for (const item of transform(event)) {
        if (item.type === "done") {
          completed = true;
          return;
        }
        if (item.type === "error") {
          failure = item.error;
          return;
        }
        const chunk = stamp(item.chunk);
        if (chunk.usage) {
          usage = adapter.parseUsage(chunk.usage) ?? usage;
          upstreamUsage = chunk.usage;
        }
        let finishingChoice: ChatCompletionChunk["choices"][number] | undefined;
        for (const choice of chunk.choices) {
          // Clients learn the role from the first delta of each choice; not every provider sends it.
          if (!announced.has(choice.index)) {
            announced.add(choice.index);
            choice.delta.role ??= "assistant";
          }
          giveToolCallIds(choice);
          collectEmittedText(emitted, choice.delta);
          if (choice.finish_reason !== null) {
            choice.native_finish_reason ??= choice.finish_reason;
            choice.finish_reason = normaliseFinishReason(choice.finish_reason);
            finishingChoice ??= choice;
          }
        }
        if (finishingChoice) finishReason = finishingChoice.finish_reason;

        if (chunk.choices.length === 0) {
          // OpenAI's trailing usage chunk. A chunk without choices or usage (Azure's leading prompt_filter_results)
          // is not passed on.
          if (chunk.usage == null) continue;
          if (heldFinish !== null) {
            out += encodeSseData(finishing(heldFinish));
            heldFinish = null;
          }
          if (clientWantsUsageChunk && !usageChunkSent) {
            out += encodeSseData(priced(chunk));
            usageChunkSent = true;
          }
          continue;
        }
        if (finishingChoice !== undefined) {
          // With n > 1 every choice finishes in its own chunk: an earlier one goes out, in order, without usage.
          if (heldFinish !== null) out += encodeSseData(withoutUsage(heldFinish, clientWantsUsageChunk));
          // The last finish waits for the usage chunk or the end of the stream: only it may carry the usage.
          heldFinish = chunk;
          continue;
        }
        out += encodeSseData(withoutUsage(chunk, clientWantsUsageChunk));
      }
    };

    try {
      let opened: StartedStream;
      if (upstream instanceof Promise) {
        // Committed before the upstream answered: the comment is the first byte, so clients and proxies see life.
        yield KEEP_ALIVE_COMMENT;
        opened = yield* keepAliveWhile(upstream, keepAliveMs);
      } else {
        opened = upstream;
      }
      const { adapter } = opened.binding;
      const transform = adapter.createStreamTransformer();
      answered = true;
      // The reads up to the first chunk were made while opening (raced against keep-alive comments, as a model may
      // think for long before its first token). Later reads are not: a timer per read would cost on the hot path.
      firstByteAt = opened.answerStartedAt;
      const reads = resumeWith(opened.head, opened.reads)[Symbol.asyncIterator]();
      // Whether the upstream body is still this loop's to close when it stops (a client gone, an in-band error).
      let reading = true;
      try {
        for (;;) {
          const read = await reads.next();
          if (read.done === true) {
            reading = false;
            break;
          }
          for (const event of read.value) {
            translate(event, transform, adapter);
            if (completed || failure !== null) break;
          }
          if (completed) {
            // The answer is whole: the client gets its end at once, in one write with the last chunks, and the rest
            // of the body (normally only its end) is read behind it, which keeps the connection for the next call
            // where abandoning the body would cut it.
            reading = false;
            void readToEnd(reads);
            break;
          }
          if (failure !== null) break;
          if (out !== "") {
            yield out;
            out = "";
          }
        }
      } finally {
        if (reading) void reads.return?.().catch(() => {});
      }
      if (!completed && failure === null && (finishReason !== null || heldFinish !== null)) completed = true;
      if (heldFinish !== null) out += encodeSseData(finishing(heldFinish));
      if (completed && failure === null && clientWantsUsageChunk && !usageChunkSent) {
        // The upstream reported usage on its finish chunk (DeepSeek, Groq), or none at all (the gateway counted what
        // was sent): the client still gets OpenAI's trailing usage-only chunk it asked for.
        out += encodeSseData(
          priced({
            id: context.generationId,
            object: "chat.completion.chunk",
            created,
            model: context.model.id,
            choices: [],
          }),
        );
      }
      if (!completed && failure === null) {
        failure = STREAM_ENDED_EARLY;
      }
    } catch (error) {
      const failed = streamFailure(context, error, signal);
      if (failed === null) return;
      failure = failed.failure;
      failureErrorType = failed.errorType;
    } finally {
      finish();
    }
    // What was produced before a failure goes out ahead of its error event.
    if (failure !== null) out += encodeStreamError(context, created, failure);
    await holdSettled(context);
    yield out + SSE_DONE;
  }

  return { status: 200, headers: { ...SSE_HEADERS, ...responseHeaders(context) }, body: events() };
}
