import type { BuildRequestInput, ProviderAdapter } from "../types";
import { createOpenAICompatibleAdapter, OPENROUTER_EXTENSIONS, type OpenAICompatibleOptions } from "./adapter";

/** Removes `fields` from the body; returns those that carried a value. */
function dropFields(body: Record<string, unknown>, fields: readonly string[]): string[] {
  const dropped: string[] = [];
  for (const field of fields) {
    if (body[field] === undefined) continue;
    if (body[field] !== null) dropped.push(field);
    delete body[field];
  }
  return dropped;
}

const CHAT_COMPLETIONS = "/chat/completions";

/**
 * The OpenAI-compatible family: one adapter, with each provider's quirks as a preset chosen by the channel's provider
 * slug (`channel add --provider …`). A provider not listed here gets every parameter as sent.
 */
const PRESETS: Record<string, OpenAICompatibleOptions> = {
  // A router itself: it takes the routing fields and every sampling extension, and reports its own cost.
  openrouter: { chatCompletionsPath: CHAT_COMPLETIONS, forwardRoutingFields: true },
  // DeepSeek answers reasoning as `reasoning_content` and cache hits as `prompt_cache_hit_tokens`, which the common
  // response handling maps; it has no sampling extensions.
  deepseek: { chatCompletionsPath: CHAT_COMPLETIONS, unsupportedParameters: OPENROUTER_EXTENSIONS },
  // Groq refuses logprobs and logit_bias.
  groq: {
    chatCompletionsPath: CHAT_COMPLETIONS,
    unsupportedParameters: [...OPENROUTER_EXTENSIONS, "logprobs", "top_logprobs", "logit_bias"],
  },
  // Mistral names the seed `random_seed` and refuses fields it does not know.
  mistral: {
    chatCompletionsPath: CHAT_COMPLETIONS,
    unsupportedParameters: [...OPENROUTER_EXTENSIONS, "logit_bias", "logprobs", "top_logprobs", "user", "metadata"],
    adjustBody(body) {
      if (body.seed !== undefined) {
        body.random_seed ??= body.seed;
        delete body.seed;
      }
      return [];
    },
  },
  xai: { chatCompletionsPath: CHAT_COMPLETIONS, unsupportedParameters: OPENROUTER_EXTENSIONS },
  // Together, Fireworks and the self-hosted servers take top_k, min_p and repetition_penalty natively.
  together: { chatCompletionsPath: CHAT_COMPLETIONS, unsupportedParameters: ["top_a", "reasoning"] },
  fireworks: { chatCompletionsPath: CHAT_COMPLETIONS, unsupportedParameters: ["top_a", "reasoning"] },
  vllm: { chatCompletionsPath: CHAT_COMPLETIONS, unsupportedParameters: ["top_a", "reasoning"] },
  ollama: {
    chatCompletionsPath: CHAT_COMPLETIONS,
    unsupportedParameters: ["top_a", "reasoning", "repetition_penalty"],
  },
  lmstudio: { chatCompletionsPath: CHAT_COMPLETIONS, unsupportedParameters: ["top_a", "reasoning"] },
};

export const OPENAI_COMPATIBLE_PRESETS = Object.keys(PRESETS);

/** OpenAI's reasoning models: the o-series and gpt-5 (but not its non-reasoning `-chat` variants). */
const REASONING_MODEL = /^(o\d+(-|$)|gpt-5(?!.*-chat))/;
/** What OpenAI's reasoning models refuse with a 400 rather than ignore. */
const REFUSED_BY_REASONING_MODELS = [
  "temperature",
  "top_p",
  "presence_penalty",
  "frequency_penalty",
  "logprobs",
  "top_logprobs",
  "logit_bias",
] as const;

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Fields other providers' clients put inside messages that OpenAI's API refuses as unknown (it validates messages as
 * strictly as the top level): Anthropic's `cache_control` breakpoints (Claude Code sets them on every turn, through
 * `/v1/messages` or OpenRouter-style on content parts and tool calls), a tool result's `is_error`, and OpenRouter's
 * reasoning fields that the gateway's own answers carry back. They mean nothing to OpenAI.
 */
const FOREIGN_MESSAGE_FIELDS = ["cache_control", "is_error", "reasoning", "reasoning_details"] as const;

function hasForeignField(object: unknown): boolean {
  return isObject(object) && FOREIGN_MESSAGE_FIELDS.some((field) => field in object);
}

function withoutForeign<T>(object: T): T {
  if (!hasForeignField(object)) return object;
  const copy = { ...(object as JsonObject) };
  for (const field of FOREIGN_MESSAGE_FIELDS) delete copy[field];
  return copy as T;
}

/** The messages with those fields left out; the same array (nothing copied) when none carries one. */
function withoutForeignFields(messages: unknown[]): unknown[] {
  const foreign = (message: unknown): boolean =>
    hasForeignField(message) ||
    (isObject(message) &&
      ((Array.isArray(message.content) && message.content.some(hasForeignField)) ||
        (Array.isArray(message.tool_calls) && message.tool_calls.some(hasForeignField))));
  if (!messages.some(foreign)) return messages;
  return messages.map((message) => {
    if (!foreign(message) || !isObject(message)) return message;
    // A copy even when only its parts change: the request's own messages are never modified.
    const cleaned = { ...withoutForeign(message) };
    if (Array.isArray(cleaned.content)) cleaned.content = cleaned.content.map(withoutForeign);
    if (Array.isArray(cleaned.tool_calls)) cleaned.tool_calls = cleaned.tool_calls.map(withoutForeign);
    return cleaned;
  });
}

/**
 * OpenAI itself. Its API refuses parameters it does not know, so OpenRouter's extensions are dropped (the `reasoning`
 * object becoming `reasoning_effort`); its reasoning models take `max_completion_tokens` instead of `max_tokens` and
 * lose the sampling parameters they refuse, so a request written for any model still succeeds.
 */
export const OPENAI_OPTIONS: OpenAICompatibleOptions = {
  chatCompletionsPath: CHAT_COMPLETIONS,
  unsupportedParameters: OPENROUTER_EXTENSIONS,
  adjustBody(body, { upstreamModel }: BuildRequestInput) {
    if (Array.isArray(body.messages)) body.messages = withoutForeignFields(body.messages as unknown[]);
    if (Array.isArray(body.tools) && body.tools.some(hasForeignField)) body.tools = body.tools.map(withoutForeign);
    if (!REASONING_MODEL.test(upstreamModel)) return [];
    if (body.max_tokens !== undefined && body.max_tokens !== null) body.max_completion_tokens ??= body.max_tokens;
    delete body.max_tokens;
    return dropFields(body, REFUSED_BY_REASONING_MODELS);
  },
};

/** One adapter for `openai-compatible` channels that applies the preset of each channel's provider. */
export function createOpenAICompatibleFamilyAdapter(): ProviderAdapter {
  const generic = createOpenAICompatibleAdapter({ chatCompletionsPath: CHAT_COMPLETIONS });
  const byProvider = new Map(
    Object.entries(PRESETS).map(([provider, options]) => [provider, createOpenAICompatibleAdapter(options)]),
  );
  const presetOf = (provider: string) => byProvider.get(provider) ?? generic;
  return {
    ...generic,
    buildRequest(input) {
      return presetOf(input.channel.provider).buildRequest(input);
    },
    embeddings: {
      ...generic.embeddings,
      buildRequest: (input) => presetOf(input.channel.provider).embeddings.buildRequest(input),
    },
  };
}
