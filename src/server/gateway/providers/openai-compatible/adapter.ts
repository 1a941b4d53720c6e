import { z } from "zod";
import type { TokenUsage } from "../../billing/compute-cost";
import type { ChatCompletion, ChatCompletionChunk } from "../../protocol/chat-completion-response";
import type { ProviderAdapter, StreamItem, UpstreamErrorInfo } from "../types";

export interface OpenAICompatibleOptions {
  /** Appended to the channel's base URL. */
  chatCompletionsPath: string;
}

const usageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z
    .looseObject({ cached_tokens: z.number().nullish(), cache_write_tokens: z.number().nullish() })
    .nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
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

const chunkSchema = z.looseObject({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        delta: z.looseObject({}).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.unknown().optional(),
  error: z.looseObject({ message: z.string().nullish(), code: z.unknown().optional() }).nullish(),
});

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

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

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
  if (status === 401 || status === 403) {
    // The channel's own key was refused: the client's request is fine, the gateway's configuration is not.
    return {
      status: 502,
      type: "upstream_error",
      code: "upstream_auth_failed",
      message: "The upstream provider rejected the gateway's credentials.",
      param: null,
    };
  }
  if (status === 429) {
    return {
      status: 429,
      type: "rate_limit_error",
      code: code ?? "rate_limited",
      message: upstreamMessage ?? "The upstream provider is rate limiting requests. Please retry later.",
      param: null,
    };
  }
  if (status === 404) {
    return {
      status: 404,
      type: "not_found_error",
      code: code ?? "not_found",
      message: upstreamMessage ?? "The upstream provider could not find the requested resource.",
      param: detail?.param ?? null,
    };
  }
  if (status >= 400 && status < 500) {
    return {
      status: status === 413 ? 413 : status === 422 ? 422 : 400,
      type: "invalid_request_error",
      code: code ?? "invalid_request",
      message: upstreamMessage ?? "The upstream provider rejected the request.",
      param: detail?.param ?? null,
    };
  }
  return {
    status: 502,
    type: "upstream_error",
    code: "upstream_error",
    message: "The upstream provider failed to answer. Please retry.",
    param: null,
  };
}

function parseOpenAIUsage(raw: unknown): TokenUsage | null {
  const parsed = usageSchema.safeParse(raw);
  if (!parsed.success || raw === null || raw === undefined) return null;
  const usage = parsed.data;
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
    cacheWriteTokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
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
export function createOpenAICompatibleAdapter(options: OpenAICompatibleOptions): ProviderAdapter {
  return {
    buildRequest({ request, upstreamModel, channel, stream }) {
      const body: Record<string, unknown> = { ...request, model: upstreamModel };
      if (stream) {
        // Always ask for usage so streamed calls can be metered exactly; the extra chunk is hidden if unwanted.
        body.stream = true;
        body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
      } else {
        delete body.stream;
        delete body.stream_options;
      }
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: stream ? "text/event-stream" : "application/json",
      };
      if (channel.apiKey !== null) headers.authorization = `Bearer ${channel.apiKey}`;
      return {
        url: joinUrl(channel.baseUrl, options.chatCompletionsPath),
        method: "POST",
        headers,
        body: JSON.stringify(body),
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
        const parsed = chunkSchema.safeParse(json);
        if (!parsed.success) return [{ type: "error", error: parseOpenAIError(502, "") }];
        const chunk = parsed.data;
        if (chunk.error) {
          // In-band error after HTTP 200 (OpenRouter does this).
          return [
            {
              type: "error",
              error: {
                status: 502,
                type: "upstream_error",
                code: "upstream_error",
                message: chunk.error.message ?? "The upstream provider failed mid-stream.",
                param: null,
              },
            },
          ];
        }
        const { error: _error, ...rest } = chunk;
        const normalised: ChatCompletionChunk = {
          ...rest,
          id: chunk.id ?? "",
          object: "chat.completion.chunk",
          created: chunk.created ?? 0,
          model: chunk.model ?? "",
          choices: (chunk.choices ?? []).map((choice, position) => {
            const delta = { ...(choice.delta ?? {}) };
            if (typeof delta.reasoning_content === "string" && delta.reasoning === undefined) {
              delta.reasoning = delta.reasoning_content;
            }
            return { ...choice, index: choice.index ?? position, delta, finish_reason: choice.finish_reason ?? null };
          }),
          usage: (chunk.usage ?? null) as ChatCompletionChunk["usage"],
        };
        return [{ type: "chunk", chunk: normalised }];
      };
    },

    parseUsage: parseOpenAIUsage,
    parseError: parseOpenAIError,
  };
}
