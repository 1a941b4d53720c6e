import type { TokenUsage } from "../billing/compute-cost";
import type { PromptMeasure } from "../billing/estimate-tokens";
import { collectEmittedText, meterCall, noEmittedText, type EmittedText, type Metered } from "../billing/meter-call";
import type { GenerationRow } from "../billing/usage-writer";
import type { GenerationAttempt } from "~/server/db/schema";
import type { GatewayDeps } from "../deps";
import { errors, GatewayError } from "../errors";
import type { Principal } from "../keys/api-key-authenticator";
import type { GatewayResponse } from "../http";
import type { ChatCompletion, ChatCompletionUsage } from "../protocol/chat-completion-response";
import { normaliseFinishReason } from "../protocol/finish-reason";
import { renderUsage } from "../protocol/render-usage";
import { fillToolCallIds, toolCallIdMaker } from "../protocol/tool-call-ids";
import type { ProviderBinding } from "../providers/registry";
import {
  UpstreamTimeoutError,
  type ProviderAdapter,
  type UpstreamErrorInfo,
  type UpstreamHttpRequest,
  type UpstreamResponse,
} from "../providers/types";
import type { CatalogModel, ModelEndpoint } from "../routing/catalog";
import { failureOutcome } from "../routing/channel-stats";
import { encodeSseData } from "../sse/encode-sse";

/** nginx's status for a request the client abandoned; recorded on the generation, never sent (nobody listens). */
export const CLIENT_CLOSED_REQUEST = 499;

/** What one call needs from start to settlement. */
export interface CallContext {
  deps: GatewayDeps;
  principal: Principal;
  model: CatalogModel;
  endpoint: ModelEndpoint;
  generationId: string;
  startedAt: number;
  streamed: boolean;
  /** Set once the upstream request is built: what the provider does not support and was left out. */
  droppedParameters?: readonly string[];
  /** What the call's balance hold reserved (its worst case); 0 until it is admitted. */
  holdNano?: bigint;
  /** The gateway's own measure of the prompt: for the hold, and for the bill when the upstream reports no usage. */
  prompt: PromptMeasure;
  /** Upstream calls made for this request (a fanned-out `n` makes one per choice), each billed for the prompt. */
  upstreamCalls: number;
  /** Set by the one settlement every call gets. */
  settlement?: Metered;
  /**
   * Set by the settlement: resolves once the call's balance hold has become its cost. The response that ends the
   * call waits for it, so a client that waits for each answer is admitted against what it really spent.
   */
  holdSettled?: Promise<void>;
  /** Every upstream attempt so far, in order (failover tries the next candidate after a retryable failure). */
  attempts: GenerationAttempt[];
  /** When the request that the upstream answered (headers, no error) was sent; unset while none has. */
  answeringSince?: number;
}

export interface CallOutcome {
  httpStatus: number;
  /** What the upstream reported; null when it reported nothing. */
  usage: TokenUsage | null;
  /** The upstream finished its answer; false for anything cut short. */
  completed: boolean;
  /** What the client received, counted when the upstream's usage is missing. */
  emitted?: EmittedText;
  finishReason?: string | null;
  errorType?: string | null;
  upstreamId?: string | null;
  cancelled?: boolean;
  firstByteAt?: number | null;
}

/** Names a client may put in a header's value: request fields are client-chosen JSON keys, so only plain ones. */
const HEADER_SAFE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_LISTED_PARAMETERS = 20;

function droppedParametersHeader(dropped: readonly string[] | undefined): Record<string, string> {
  const listed = (dropped ?? []).filter((name) => HEADER_SAFE_NAME.test(name)).slice(0, MAX_LISTED_PARAMETERS);
  return listed.length > 0 ? { "x-tollgate-dropped-parameters": listed.join(", ") } : {};
}

export function responseHeaders(context: CallContext): Record<string, string> {
  return {
    "x-generation-id": context.generationId,
    "x-tollgate-provider": context.endpoint.channel.provider,
    "x-tollgate-channel": context.endpoint.channel.name,
    "x-tollgate-attempts": String(Math.max(1, context.attempts.length)),
    "x-tollgate-model": context.model.id,
    ...droppedParametersHeader(context.droppedParameters),
  };
}

/** What the call costs so far, the same way its settlement will meter it (for the usage shown to the client). */
export function meter(context: CallContext, outcome: Pick<CallOutcome, "usage" | "completed" | "emitted">): Metered {
  return meterCall({
    reported: outcome.usage,
    completed: outcome.completed,
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

/**
 * An upstream call that produced no answer. Not settled where it is raised: a single call settles it at once, a
 * fan-out settles once for all its copies.
 */
export class CallFailure extends Error {
  constructor(
    /** What the client is told. */
    readonly error: GatewayError,
    /** What the generation records (`upstream_timeout`, `client_disconnected`, the upstream's error type, …). */
    readonly errorType: string,
    readonly cancelled = false,
    /** The upstream's own HTTP status, when it answered with an error. */
    readonly upstreamStatus: number | null = null,
    /** How long the upstream asked callers to wait (its `Retry-After`), in milliseconds. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(error.message);
    this.name = "CallFailure";
  }

  get httpStatus(): number {
    return this.cancelled ? CLIENT_CLOSED_REQUEST : this.error.status;
  }
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

/** How long a client should wait before retrying a 429 or 503 when the upstream did not say. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** An upstream's `Retry-After` in whole seconds (it may be seconds or an HTTP date), or null when absent or bad. */
function retryAfterSeconds(header: string | string[] | undefined, now: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds) : null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

function toGatewayError(info: UpstreamErrorInfo, upstream: UpstreamResponse, now: number): GatewayError {
  const type = info.type as GatewayError["type"];
  const headers: Record<string, string> = {};
  if (info.status === 429 || info.status === 503) {
    // Clients time their retries by this header; pass the upstream's on, or give one.
    const seconds = retryAfterSeconds(upstream.headers["retry-after"], now) ?? DEFAULT_RETRY_AFTER_SECONDS;
    headers["retry-after"] = String(seconds);
  }
  return new GatewayError(info.status, type, info.code, info.message, info.param, headers);
}

/** Sends one request upstream and waits for its headers; every way of getting no answer becomes a CallFailure. */
export async function openUpstream(
  context: CallContext,
  binding: ProviderBinding,
  upstreamRequest: UpstreamHttpRequest,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  const { deps, endpoint } = context;
  let upstream: UpstreamResponse;
  try {
    upstream = await binding.transport(upstreamRequest, signal, { timeouts: endpoint.channel.timeouts });
  } catch (error) {
    if (signal.aborted) {
      // The client went away before the upstream answered: nothing was produced, nothing is billed.
      throw new CallFailure(errors.clientDisconnected(), "client_disconnected", true);
    }
    if (error instanceof UpstreamTimeoutError) {
      deps.logger.warn("upstream timed out", { channel: endpoint.channel.name });
      throw new CallFailure(errors.upstreamTimeout(), "upstream_timeout");
    }
    deps.logger.warn("upstream unreachable", { channel: endpoint.channel.name, error });
    throw new CallFailure(errors.upstreamFailed(), "upstream_unreachable");
  }

  if (upstream.status >= 400) {
    const text = await upstream.text().catch(() => "");
    const info = binding.adapter.parseError(upstream.status, text);
    deps.logger.info("upstream refused the request", {
      channel: endpoint.channel.name,
      upstreamStatus: upstream.status,
      status: info.status,
    });
    const retryAfter = retryAfterSeconds(upstream.headers["retry-after"], deps.clock());
    throw new CallFailure(
      toGatewayError(info, upstream, deps.clock()),
      info.type,
      false,
      upstream.status,
      retryAfter === null ? null : retryAfter * 1000,
    );
  }
  return upstream;
}

export interface ReadCompletion {
  completion: ChatCompletion;
  usage: TokenUsage | null;
}

/** Reads and checks a non-streamed answer, finish reasons normalised and every tool call with an id. */
export async function readCompletion(
  context: CallContext,
  adapter: ProviderAdapter,
  upstream: UpstreamResponse,
  signal: AbortSignal,
): Promise<ReadCompletion> {
  let text: string;
  try {
    text = await upstream.text();
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
  let completion: ChatCompletion;
  try {
    completion = adapter.parseResponse(JSON.parse(text));
  } catch (error) {
    context.deps.logger.warn("upstream answered garbage", { channel: context.endpoint.channel.name, error });
    throw new CallFailure(
      errors.upstreamFailed("The upstream provider returned an invalid response."),
      "upstream_invalid_response",
    );
  }
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

/** A non-streamed answer in OpenAI's shape under the gateway's id and model, with the usage and cost billed. */
export function completionResponse(
  context: CallContext,
  completion: ChatCompletion,
  metered: Metered,
  upstreamUsage: ChatCompletionUsage | null | undefined,
): GatewayResponse {
  const answer = {
    ...completion,
    id: context.generationId,
    created: completion.created || Math.floor(context.startedAt / 1000),
    model: context.model.id,
    usage: renderUsage(metered.usage, metered.costNano, upstreamUsage),
  };
  return {
    status: 200,
    headers: { "content-type": "application/json", ...responseHeaders(context) },
    body: JSON.stringify(answer),
  };
}

/** The last event of a stream that failed after its headers went out: OpenAI's SDKs raise it as an APIError. */
export function encodeStreamError(
  context: CallContext,
  created: number,
  failure: { message: string; type: string; code: string | null },
): string {
  return encodeSseData({
    id: context.generationId,
    object: "chat.completion.chunk",
    created,
    model: context.model.id,
    choices: [{ index: 0, delta: {}, finish_reason: "error" }],
    error: { message: failure.message, type: failure.type, code: failure.code },
  });
}

/** A stream whose upstream ended before finishing (no [DONE], no finish reason). */
export const STREAM_ENDED_EARLY: UpstreamErrorInfo = {
  status: 502,
  type: "upstream_error",
  code: "upstream_stream_incomplete",
  message: "The upstream provider ended the stream early.",
  param: null,
};

/**
 * What a streamed call that threw after its response was committed tells the client, and the error type it is
 * recorded with; null when the client itself went away (nobody to tell, and the call counts as cancelled).
 */
export function streamFailure(
  context: CallContext,
  error: unknown,
  signal: AbortSignal,
): { failure: UpstreamErrorInfo; errorType: string | null } | null {
  if (error instanceof CallFailure) {
    // The upstream gave no answer after the response was committed (the client leaving is one way).
    if (error.cancelled) return null;
    const { type, code, message, param } = error.error;
    return { failure: { status: error.httpStatus, type, code, message, param }, errorType: error.errorType };
  }
  if (signal.aborted) return null;
  if (error instanceof UpstreamTimeoutError) {
    // Silence past the idle limit, or the call's total limit: the client keeps what it received, and pays for that.
    context.deps.logger.warn("upstream timed out mid-stream", { channel: context.endpoint.channel.name });
    const { status, type, code, message, param } = errors.upstreamTimeout();
    return { failure: { status, type, code, message, param }, errorType: "upstream_timeout" };
  }
  context.deps.logger.warn("upstream stream failed", { channel: context.endpoint.channel.name, error });
  return {
    failure: {
      status: 502,
      type: "upstream_error",
      code: "upstream_stream_failed",
      message: "The upstream provider failed mid-stream.",
      param: null,
    },
    errorType: null,
  };
}
