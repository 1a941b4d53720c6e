import { computeCostNano, ZERO_USAGE, type TokenUsage } from "../billing/compute-cost";
import type { GenerationRow } from "../billing/usage-writer";
import type { GatewayDeps } from "../deps";
import { errors, GatewayError } from "../errors";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { ChatCompletionChunk } from "../protocol/chat-completion-response";
import { describeIssue } from "../protocol/describe-issue";
import { normaliseFinishReason } from "../protocol/finish-reason";
import { renderUsage } from "../protocol/render-usage";
import {
  UpstreamTimeoutError,
  type ProviderAdapter,
  type SseEvent,
  type UpstreamErrorInfo,
  type UpstreamResponse,
} from "../providers/types";
import type { CatalogModel, ModelEndpoint } from "../routing/catalog";
import { orderEndpoints } from "../routing/order-endpoints";
import { encodeSseData, SSE_DONE, SSE_HEADERS } from "../sse/encode-sse";
import { parseSse } from "../sse/parse-sse";

/** nginx's status for a request the client abandoned; recorded on the generation, never sent (nobody listens). */
const CLIENT_CLOSED_REQUEST = 499;

/** What one call needs from start to settlement. */
interface CallContext {
  deps: GatewayDeps;
  principal: Principal;
  model: CatalogModel;
  endpoint: ModelEndpoint;
  generationId: string;
  startedAt: number;
  streamed: boolean;
}

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

function responseHeaders(context: CallContext): Record<string, string> {
  return {
    "x-generation-id": context.generationId,
    "x-tollgate-provider": context.endpoint.channel.provider,
    "x-tollgate-model": context.model.id,
  };
}

function settle(
  context: CallContext,
  outcome: {
    httpStatus: number;
    usage: TokenUsage | null;
    finishReason?: string | null;
    errorType?: string | null;
    upstreamId?: string | null;
    cancelled?: boolean;
    firstByteAt?: number | null;
  },
): bigint {
  const { deps, endpoint } = context;
  const usage = outcome.usage ?? ZERO_USAGE;
  const costNano = outcome.usage === null ? 0n : computeCostNano(usage, endpoint.prices);
  const now = deps.clock();
  const generation: GenerationRow = {
    id: context.generationId,
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
    costNano,
    latencyMs: Math.max(0, Math.round(now - context.startedAt)),
    timeToFirstTokenMs:
      outcome.firstByteAt === undefined || outcome.firstByteAt === null
        ? null
        : Math.max(0, Math.round(outcome.firstByteAt - context.startedAt)),
    createdAt: new Date(context.startedAt),
  };
  deps.usageWriter.enqueue({ generation, costNano });
  return costNano;
}

function toGatewayError(info: UpstreamErrorInfo): GatewayError {
  const type = info.type as GatewayError["type"];
  return new GatewayError(info.status, type, info.code, info.message, info.param);
}

/** POST /v1/chat/completions: validate, admit, route, call the upstream, meter, answer in OpenAI's format. */
export async function handleChatCompletions(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
): Promise<GatewayResponse> {
  const startedAt = deps.clock();
  const body = parseChatRequest(request.body);
  const model = deps.catalog.getModel(body.model);
  if (model === undefined || model.endpoints.length === 0) throw errors.modelNotFound(body.model);
  if (principal.allowedModels !== null && !principal.allowedModels.has(model.id)) {
    throw errors.modelNotAllowed(model.id);
  }

  const available = await deps.balanceGate.availableNano(principal.userId);
  if (available <= 0n) {
    throw errors.insufficientCredits("Your balance is exhausted. Add credits to continue using the API.");
  }

  const [endpoint] = orderEndpoints(model.endpoints, deps.random);
  if (endpoint === undefined) throw errors.noUpstream(model.id);
  const streamed = body.stream === true;
  const context: CallContext = {
    deps,
    principal,
    model,
    endpoint,
    generationId: deps.newGenerationId(),
    startedAt,
    streamed,
  };
  const { adapter, transport } = deps.providers.forChannel(endpoint.channel);
  const upstreamRequest = adapter.buildRequest({
    request: body,
    upstreamModel: endpoint.upstreamModel,
    channel: endpoint.channel,
    stream: streamed,
  });

  let upstream: UpstreamResponse;
  try {
    upstream = await transport(upstreamRequest, request.signal);
  } catch (error) {
    if (request.signal.aborted) {
      // The client went away before the upstream answered: nothing was produced, nothing is billed.
      settle(context, {
        httpStatus: CLIENT_CLOSED_REQUEST,
        usage: null,
        errorType: "client_disconnected",
        cancelled: true,
      });
      throw errors.clientDisconnected();
    }
    if (error instanceof UpstreamTimeoutError) {
      settle(context, { httpStatus: 504, usage: null, errorType: "upstream_timeout" });
      deps.logger.warn("upstream timed out", { channel: endpoint.channel.name });
      throw errors.upstreamTimeout();
    }
    settle(context, { httpStatus: 502, usage: null, errorType: "upstream_unreachable" });
    deps.logger.warn("upstream unreachable", { channel: endpoint.channel.name, error });
    throw errors.upstreamFailed();
  }

  if (upstream.status >= 400) {
    const text = await upstream.text().catch(() => "");
    const info = adapter.parseError(upstream.status, text);
    settle(context, { httpStatus: info.status, usage: null, errorType: info.type });
    deps.logger.info("upstream refused the request", {
      channel: endpoint.channel.name,
      upstreamStatus: upstream.status,
      status: info.status,
    });
    throw toGatewayError(info);
  }

  return streamed
    ? streamCompletion(context, adapter, upstream, body, request.signal)
    : completeOnce(context, adapter, upstream);
}

async function completeOnce(
  context: CallContext,
  adapter: ProviderAdapter,
  upstream: UpstreamResponse,
): Promise<GatewayResponse> {
  let completion;
  try {
    completion = adapter.parseResponse(JSON.parse(await upstream.text()));
  } catch (error) {
    settle(context, { httpStatus: 502, usage: null, errorType: "upstream_invalid_response" });
    context.deps.logger.warn("upstream answered garbage", { channel: context.endpoint.channel.name, error });
    throw errors.upstreamFailed("The upstream provider returned an invalid response.");
  }
  const usage = adapter.parseUsage(completion.usage);
  const choices = completion.choices.map((choice) => ({
    ...choice,
    finish_reason: normaliseFinishReason(choice.finish_reason),
    native_finish_reason: choice.native_finish_reason ?? choice.finish_reason,
  }));
  const costNano = settle(context, {
    httpStatus: 200,
    usage,
    finishReason: choices[0]?.finish_reason ?? null,
    upstreamId: completion.id || null,
  });
  const answer = {
    ...completion,
    id: context.generationId,
    created: completion.created || Math.floor(context.startedAt / 1000),
    model: context.model.id,
    choices,
    usage: renderUsage(usage ?? ZERO_USAGE, costNano, completion.usage),
  };
  return {
    status: 200,
    headers: { "content-type": "application/json", ...responseHeaders(context) },
    body: JSON.stringify(answer),
  };
}

function streamCompletion(
  context: CallContext,
  adapter: ProviderAdapter,
  upstream: UpstreamResponse,
  body: ChatCompletionRequest,
  signal: AbortSignal,
): GatewayResponse {
  const clientWantsUsageChunk = body.stream_options?.include_usage === true;
  const created = Math.floor(context.startedAt / 1000);

  async function* events(): AsyncGenerator<string> {
    const transform = adapter.createStreamTransformer();
    let usage: TokenUsage | null = null;
    let upstreamUsage: ChatCompletionChunk["usage"] = null;
    let upstreamId: string | null = null;
    let finishReason: string | null = null;
    // The finish chunk is held back until the usage arrives (OpenAI sends usage in a separate, later chunk) so it
    // can carry usage and cost itself.
    let heldFinish: ChatCompletionChunk | null = null;
    let firstByteAt: number | null = null;
    let failure: UpstreamErrorInfo | null = null;
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
    const priced = (chunk: ChatCompletionChunk): ChatCompletionChunk => {
      const costNano = usage === null ? 0n : computeCostNano(usage, context.endpoint.prices);
      return { ...chunk, usage: renderUsage(usage ?? ZERO_USAGE, costNano, upstreamUsage) };
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      settle(context, {
        httpStatus: failure === null ? 200 : failure.status,
        usage,
        finishReason: failure === null ? finishReason : "error",
        errorType: failure?.type ?? null,
        upstreamId,
        cancelled: !completed && failure === null,
        firstByteAt,
      });
    };

    // What one upstream read produced for the client, sent as one write.
    let out = "";
    // Choice indexes whose first delta has gone out.
    const announced = new Set<number>();
    const translate = (event: SseEvent): void => {
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
        let finishing: ChatCompletionChunk["choices"][number] | undefined;
        for (const choice of chunk.choices) {
          // Clients learn the role from the first delta of each choice; not every provider sends it.
          if (!announced.has(choice.index)) {
            announced.add(choice.index);
            choice.delta.role ??= "assistant";
          }
          if (choice.finish_reason !== null) {
            choice.native_finish_reason ??= choice.finish_reason;
            choice.finish_reason = normaliseFinishReason(choice.finish_reason);
            finishing ??= choice;
          }
        }
        if (finishing) finishReason = finishing.finish_reason;

        if (chunk.choices.length === 0) {
          // OpenAI's trailing usage-only chunk.
          if (heldFinish !== null) {
            out += encodeSseData(priced(heldFinish));
            heldFinish = null;
          }
          if (clientWantsUsageChunk && usage !== null) out += encodeSseData(priced(chunk));
          continue;
        }
        if (finishing !== undefined && chunk.usage == null) {
          // With n > 1 every choice finishes in its own chunk: only the last one carries the usage.
          if (heldFinish !== null) {
            heldFinish.usage = undefined;
            out += encodeSseData(heldFinish);
          }
          heldFinish = chunk;
          continue;
        }
        if (finishing !== undefined) {
          out += encodeSseData(priced(chunk));
        } else {
          chunk.usage = undefined;
          out += encodeSseData(chunk);
        }
      }
    };

    try {
      for await (const events of parseSse(upstream.body)) {
        firstByteAt ??= context.deps.clock();
        // After [DONE] the body is read to its end (normally at once) rather than abandoned: abandoning it makes
        // the stream raise and destroy itself, which costs more than the few bytes left.
        for (const event of events) if (!completed && failure === null) translate(event);
        if (out !== "") {
          yield out;
          out = "";
        }
        if (failure !== null) break;
      }
      if (!completed && failure === null && (finishReason !== null || heldFinish !== null)) completed = true;
      if (heldFinish !== null) yield encodeSseData(priced(heldFinish));
      if (!completed && failure === null) {
        failure = {
          status: 502,
          type: "upstream_error",
          code: "upstream_stream_incomplete",
          message: "The upstream provider ended the stream early.",
          param: null,
        };
      }
    } catch (error) {
      if (signal.aborted) return;
      context.deps.logger.warn("upstream stream failed", { channel: context.endpoint.channel.name, error });
      failure = {
        status: 502,
        type: "upstream_error",
        code: "upstream_stream_failed",
        message: "The upstream provider failed mid-stream.",
        param: null,
      };
    } finally {
      finish();
    }
    if (failure !== null) {
      yield encodeSseData({
        id: context.generationId,
        object: "chat.completion.chunk",
        created,
        model: context.model.id,
        choices: [{ index: 0, delta: {}, finish_reason: "error" }],
        error: { message: failure.message, type: failure.type, code: failure.code },
      });
    }
    yield SSE_DONE;
  }

  return { status: 200, headers: { ...SSE_HEADERS, ...responseHeaders(context) }, body: events() };
}
