import type { ChatCompletionRequest } from "../../protocol/chat-completion-request";
import type { GeminiGenerationConfig, GeminiThinkingConfig } from "./gemini-types";

type Effort = NonNullable<ChatCompletionRequest["reasoning_effort"]>;

/**
 * Thinking budgets (tokens) for gemini-2.x, which takes a budget. `high` and `xhigh` stop at 24,576, the largest
 * budget every 2.5 model accepts (Flash's ceiling; Pro's is 32,768). A client wanting more sends
 * `reasoning.max_tokens`, which is passed on as the exact budget.
 */
const THINKING_BUDGETS: Record<Exclude<Effort, "none">, number> = {
  minimal: 512,
  low: 2_048,
  medium: 8_192,
  high: 24_576,
  xhigh: 24_576,
};

/**
 * gemini-3 takes a level instead. `low` and `high` are the two every gemini-3 model accepts; it cannot switch
 * thinking off, so `none` asks for the least.
 */
const THINKING_LEVELS: Record<Effort, "low" | "high"> = {
  none: "low",
  minimal: "low",
  low: "low",
  medium: "high",
  high: "high",
  xhigh: "high",
};

function usesThinkingLevels(upstreamModel: string): boolean {
  return /(^|\/)gemini-[3-9]/.test(upstreamModel);
}

/**
 * OpenAI's `reasoning_effort` and OpenRouter's `reasoning` object → `thinkingConfig`. Thought summaries are only
 * asked for (`includeThoughts`) when the client asked for reasoning and did not exclude it; the client then gets them
 * as `reasoning`. Without any reasoning setting the model's own default applies and nothing is sent.
 */
export function buildThinkingConfig(
  request: ChatCompletionRequest,
  upstreamModel: string,
): GeminiThinkingConfig | undefined {
  const reasoning = request.reasoning ?? null;
  const effort = reasoning?.effort ?? request.reasoning_effort ?? null;
  const includeReasoning = (request as { include_reasoning?: unknown }).include_reasoning;
  const levels = usesThinkingLevels(upstreamModel);

  if (reasoning?.enabled === false || (effort === "none" && reasoning?.max_tokens == null)) {
    return levels ? { thinkingLevel: THINKING_LEVELS.none } : { thinkingBudget: 0 };
  }
  const config: GeminiThinkingConfig = {};
  if (reasoning?.max_tokens != null) config.thinkingBudget = reasoning.max_tokens;
  else if (effort !== null && effort !== "none") {
    if (levels) config.thinkingLevel = THINKING_LEVELS[effort];
    else config.thinkingBudget = THINKING_BUDGETS[effort];
  }
  const asked = reasoning !== null || effort !== null || includeReasoning === true;
  const excluded = reasoning?.exclude === true || includeReasoning === false;
  if (asked && !excluded) config.includeThoughts = true;
  return Object.keys(config).length > 0 ? config : undefined;
}

/** Sampling, limits, structured output and thinking → `generationConfig` (undefined when nothing is set). */
export function buildGenerationConfig(
  request: ChatCompletionRequest,
  upstreamModel: string,
): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  if (request.top_k != null) config.topK = request.top_k;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.stop != null) {
    const stops = typeof request.stop === "string" ? [request.stop] : request.stop;
    if (stops.length > 0) config.stopSequences = stops;
  }
  if (request.n != null && request.n > 1) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  if (request.presence_penalty != null) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty != null) config.frequencyPenalty = request.frequency_penalty;

  const format = request.response_format;
  if (format?.type === "json_object") {
    config.responseMimeType = "application/json";
  } else if (format?.type === "json_schema") {
    config.responseMimeType = "application/json";
    // responseJsonSchema takes JSON Schema as it is (unlike function parameters), so the client's schema is sent
    // unchanged, with the format's description when the schema has none.
    const { schema, description } = format.json_schema;
    if (schema != null) {
      config.responseJsonSchema =
        description != null && schema.description === undefined ? { ...schema, description } : schema;
    }
  }

  const thinking = buildThinkingConfig(request, upstreamModel);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  return Object.keys(config).length > 0 ? config : undefined;
}
