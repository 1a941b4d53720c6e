import { z } from "zod";
import type { TokenUsage } from "../../billing/compute-cost";
import { parseUsdToNano } from "../../billing/money";
import type { ChatCompletion, ChatCompletionChunk } from "../../protocol/chat-completion-response";
import { GATEWAY_ONLY_FIELDS } from "../../protocol/chat-completion-request";
import type { BuildRequestInput, EmbeddingsCapability, ProviderAdapter, StreamItem, UpstreamErrorInfo } from "../types";
import { upstreamErrorForStatus } from "../upstream-error";
import { createOpenAICompatibleEmbeddings } from "./embeddings";
import { joinUrl, upstreamHeaders } from "./upstream-http";

export interface OpenAICompatibleOptions {
  /** Appended to the channel's base URL. */
  chatCompletionsPath: string;
  /**
   * Request fields this upstream refuses (OpenAI answers 400 to parameters it does not know), dropped before
   * sending. OpenRouter's `reasoning` object is turned into `reasoning_effort` first when it is dropped.
   */
  unsupportedParameters?: readonly string[];
  /**
   * Keeps the gateway's routing fields (`models`, `route`, `provider`) in the body: for an upstream that is itself a
   * router speaking that dialect (OpenRouter).
   */
  forwardRoutingFields?: boolean;
  /** Sends the key as this header instead of `Authorization: Bearer`. */
  apiKeyHeader?: string;
  /**
   * Last per-provider changes to the upstream body (after the common ones), e.g. renaming a parameter. Returns the
   * names of parameters it left out, for the client's `x-tollgate-dropped-parameters` header.
   */
  adjustBody?: (body: Record<string, unknown>, input: BuildRequestInput) => string[];
}

/** OpenRouter's sampling extras and reasoning object, which OpenAI's own API and most hosted clones refuse. */
export const OPENROUTER_EXTENSIONS = ["top_k", "top_a", "min_p", "repetition_penalty", "reasoning"] as const;

const usageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
  prompt_tokens_details: z
    .looseObject({ cached_tokens: z.number().nullish(), cache_write_tokens: z.number().nullish() })
    .nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
  // OpenRouter reports what it charged, in USD.
  cost: z.number().nullish(),
  // DeepSeek reports cache hits under its own names.
  prompt_cache_hit_tokens: z.number().nullish(),
});

const completionSchema = z.looseObject({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().nullish(),
      message: z.looseObject({}).nullish(),
      finish_reason: z.string().nullish(),
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: z.unknown().optional(),
});

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOptional(value: unknown, type: "string" | "number"): boolean {
  return value === undefined || value === null || typeof value === type;
}

/**
 * Checks one streamed chunk's shape by hand: this runs for every chunk of every stream, where a zod parse cost a
 * measurable share of the gateway's CPU. It checks exactly what the code below relies on, nothing more.
 */
function isChunkShape(
  json: unknown,
): json is JsonObject & { choices?: JsonObject[] | null; error?: JsonObject | null } {
  if (!isObject(json)) return false;
  if (!isOptional(json.id, "string") || !isOptional(json.created, "number") || !isOptional(json.model, "string")) {
    return false;
  }
  const { choices, error } = json;
  if (error !== undefined && error !== null && (!isObject(error) || !isOptional(error.message, "string"))) return false;
  if (choices === undefined || choices === null) return true;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices as unknown[]) {
    if (!isObject(choice) || !isOptional(choice.index, "number") || !isOptional(choice.finish_reason, "string")) {
      return false;
    }
    if (choice.delta !== undefined && choice.delta !== null && !isObject(choice.delta)) return false;
  }
  return true;
}

const errorBodySchema = z.looseObject({
  error: z.union([
    z.looseObject({
      message: z.string().nullish(),
      type: z.string().nullish(),
      code: z.union([z.string(), z.number()]).nullish(),
      param: z.string().nullish(),
    }),
    z.string(),
  ]),
});

/** Upstream messages are passed on for request errors (4xx); everything else is masked. */
function parseOpenAIError(status: number, bodyText: string): UpstreamErrorInfo {
  let parsed: z.infer<typeof errorBodySchema> | undefined;
  try {
    const result = errorBodySchema.safeParse(JSON.parse(bodyText));
    if (result.success) parsed = result.data;
  } catch {
    // Not JSON: treated as an opaque failure below.
  }
  const detail = typeof parsed?.error === "string" ? { message: parsed.error } : parsed?.error;
  const upstreamMessage = detail?.message ?? null;
  const code = detail?.code === undefined || detail.code === null ? null : String(detail.code);
  return upstreamErrorForStatus(status, { message: upstreamMessage, code, param: detail?.param ?? null });
}

/**
 * What an error chunk sent after HTTP 200 tells the client. OpenRouter puts the HTTP status the call would have had in
 * `error.code` (`{"code": 429, "message": "Rate limit exceeded"}`): that status is mapped as it would be in the
 * headers, so a rate limit stays a 429 and a request error a 400 that failover does not retry. An error without one
 * says only that the upstream failed mid-stream; its message is passed on.
 */
function parseInBandError(error: JsonObject): UpstreamErrorInfo {
  const message = typeof error.message === "string" ? error.message : null;
  const { code } = error;
  if (typeof code === "number" && Number.isInteger(code) && code >= 400 && code <= 599) {
    return upstreamErrorForStatus(code, {
      message,
      code: null,
      param: typeof error.param === "string" ? error.param : null,
    });
  }
  return {
    status: 502,
    type: "upstream_error",
    code: "upstream_error",
    message: message ?? "The upstream provider failed mid-stream.",
    param: null,
  };
}

/** A reported USD charge as nano-USD: the double rounded to nine decimals, then parsed exactly. */
function upstreamCostNano(cost: number | null | undefined): bigint | null {
  if (typeof cost !== "number" || !Number.isFinite(cost) || cost < 0) return null;
  return parseUsdToNano(cost.toFixed(9));
}

function parseOpenAIUsage(raw: unknown): TokenUsage | null {
  const parsed = usageSchema.safeParse(raw);
  if (!parsed.success || raw === null || raw === undefined) return null;
  const usage = parsed.data;
  const promptTokens = usage.prompt_tokens ?? 0;
  const reportedCompletion = usage.completion_tokens ?? 0;
  const reportedReasoning = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  // Gemini's OpenAI-compatible endpoint leaves thinking out of completion_tokens but counts it in total_tokens, and
  // Google bills it as output: whatever total_tokens counts beyond prompt + completion is unreported reasoning.
  const unreported = Math.max(0, (usage.total_tokens ?? 0) - promptTokens - reportedCompletion);
  const completionTokens = reportedCompletion + unreported;
  // Some servers do report that thinking as reasoning_tokens yet leave it out of completion_tokens (more reasoning
  // than completion, or exactly the missing count): the gap is then that reasoning, not more of it.
  const reasoningLeftOut =
    unreported > 0 && (reportedReasoning > reportedCompletion || reportedReasoning === unreported);
  return {
    promptTokens,
    completionTokens,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
    cacheWriteTokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: reasoningLeftOut
      ? Math.min(completionTokens, Math.max(reportedReasoning, unreported))
      : reportedReasoning + unreported,
    upstreamCostNano: upstreamCostNano(usage.cost),
  };
}

/** Fields OpenAI's schema requires on a message even when a compatible upstream leaves them out. */
function normaliseMessage(message: Record<string, unknown>): Record<string, unknown> {
  const normalised: Record<string, unknown> = { role: "assistant", content: null, refusal: null, ...message };
  if (typeof normalised.reasoning_content === "string" && normalised.reasoning === undefined) {
    normalised.reasoning = normalised.reasoning_content;
  }
  return normalised;
}

/** One adapter for every upstream that already speaks OpenAI's Chat Completions (OpenAI itself included). */
export function createOpenAICompatibleAdapter(
  options: OpenAICompatibleOptions,
): ProviderAdapter & { embeddings: EmbeddingsCapability } {
  const unsupported = new Set(options.unsupportedParameters ?? []);
  return {
    buildRequest(input) {
      const { request, upstreamModel, channel, stream } = input;
      const body: Record<string, unknown> = { ...request, model: upstreamModel };
      if (options.forwardRoutingFields !== true) for (const field of GATEWAY_ONLY_FIELDS) delete body[field];
      if (unsupported.has("reasoning") && request.reasoning?.effort != null) {
        body.reasoning_effort ??= request.reasoning.effort;
      }
      const dropped: string[] = [];
      for (const field of unsupported) {
        if (body[field] === undefined) continue;
        if (body[field] !== null && !(field === "reasoning" && body.reasoning_effort !== undefined))
          dropped.push(field);
        delete body[field];
      }
      if (stream) {
        // Always ask for usage so streamed calls can be metered exactly; the extra chunk is hidden if unwanted.
        body.stream = true;
        body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
      } else {
        delete body.stream;
        delete body.stream_options;
      }
      if (options.adjustBody !== undefined) {
        dropped.push(...options.adjustBody(body, input));
      }
      return {
        url: joinUrl(channel.baseUrl, options.chatCompletionsPath),
        method: "POST",
        headers: upstreamHeaders(channel, stream ? "text/event-stream" : "application/json", options.apiKeyHeader),
        body: JSON.stringify(body),
        ...(dropped.length > 0 ? { droppedParameters: dropped } : {}),
      };
    },

    parseResponse(body) {
      const completion = completionSchema.parse(body);
      return {
        ...completion,
        id: completion.id ?? "",
        object: "chat.completion",
        created: completion.created ?? 0,
        model: completion.model ?? "",
        choices: completion.choices.map((choice, position) => ({
          ...choice,
          index: choice.index ?? position,
          message: normaliseMessage(choice.message ?? {}),
          finish_reason: choice.finish_reason ?? null,
          logprobs: choice.logprobs ?? null,
        })),
        usage: (completion.usage ?? null) as ChatCompletion["usage"],
      };
    },

    createStreamTransformer() {
      return (event): StreamItem[] => {
        if (event.data === "[DONE]") return [{ type: "done" }];
        let json: unknown;
        try {
          json = JSON.parse(event.data);
        } catch {
          return [{ type: "error", error: parseOpenAIError(502, "") }];
        }
        if (!isChunkShape(json)) return [{ type: "error", error: parseOpenAIError(502, "") }];
        const { error } = json;
        if (error) {
          // In-band error after HTTP 200 (OpenRouter does this). The chunk may still report what was used until the
          // failure, which is billed: it goes first as a usage-only chunk.
          const usage = isObject(json.usage) ? (json.usage as ChatCompletionChunk["usage"]) : null;
          const consumed: StreamItem[] =
            usage === null
              ? []
              : [
                  {
                    type: "chunk",
                    chunk: {
                      id: (json.id as string | null | undefined) ?? "",
                      object: "chat.completion.chunk",
                      created: (json.created as number | null | undefined) ?? 0,
                      model: (json.model as string | null | undefined) ?? "",
                      choices: [],
                      usage,
                    },
                  },
                ];
          return [...consumed, { type: "error", error: parseInBandError(error) }];
        }
        if (error === null) delete json.error;
        // The object was parsed from this event just now and nobody else holds it: normalise it in place.
        const choices = json.choices ?? [];
        choices.forEach((choice, position) => {
          choice.index ??= position;
          choice.finish_reason ??= null;
          const delta = (choice.delta ??= {}) as JsonObject;
          if (typeof delta.reasoning_content === "string" && delta.reasoning === undefined) {
            delta.reasoning = delta.reasoning_content;
          }
        });
        json.id ??= "";
        json.object = "chat.completion.chunk";
        json.created ??= 0;
        json.model ??= "";
        json.choices = choices;
        json.usage ??= null;
        const normalised = json as ChatCompletionChunk;
        return [{ type: "chunk", chunk: normalised }];
      };
    },

    parseUsage: parseOpenAIUsage,
    parseError: parseOpenAIError,
    embeddings: createOpenAICompatibleEmbeddings(options),
  };
}
