import { GATEWAY_ONLY_FIELDS, type ChatCompletionRequest } from "../../protocol/chat-completion-request";
import { versionedBaseUrl } from "../api-base-url";
import type { BuildRequestInput, UpstreamHttpRequest } from "../types";
import { convertMessages } from "./messages";
import { THINKING_SUFFIX, thinkingFor } from "./reasoning";

export const ANTHROPIC_VERSION = "2023-06-01";
/**
 * The version in Anthropic's paths (`/v1/messages`), added to a base URL given without one, the Anthropic SDKs' form
 * (`https://api.anthropic.com`); see api-base-url.ts.
 */
export const ANTHROPIC_API_PATH_VERSION = "v1";

/** When the catalog does not say how long the model may answer (Anthropic requires a limit on every call). */
export const FALLBACK_MAX_TOKENS = 4096;

/**
 * The tool a `json_object` answer is forced through: Anthropic has no schema-less JSON mode, but a tool's input is
 * always a JSON object. Its input comes back as the message's `content`. The name is unusual on purpose, so that no
 * client tool is mistaken for it.
 */
export const JSON_RESPONSE_TOOL = "tollgate_json_response";

/** Fields this adapter reads (or that mean nothing to Anthropic when left at their defaults). */
const HANDLED = new Set<string>([
  "model",
  "messages",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "top_k",
  "stop",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "reasoning_effort",
  "reasoning",
  "user",
  "n",
  "cache_control",
  "thinking",
  ...GATEWAY_ONLY_FIELDS,
]);

type JsonObject = Record<string, unknown>;

function convertTools(request: ChatCompletionRequest): JsonObject[] {
  return (request.tools ?? []).map((tool) => {
    const converted: JsonObject = {
      name: tool.function.name,
      input_schema: tool.function.parameters ?? { type: "object", properties: {} },
    };
    if (typeof tool.function.description === "string") converted.description = tool.function.description;
    if (tool.function.strict === true) converted.strict = true;
    const cacheControl = (tool as JsonObject).cache_control;
    if (cacheControl !== undefined && cacheControl !== null) converted.cache_control = cacheControl;
    return converted;
  });
}

function convertToolChoice(request: ChatCompletionRequest): JsonObject | null {
  const choice = request.tool_choice;
  let converted: JsonObject | null = null;
  if (choice === "auto") converted = { type: "auto" };
  else if (choice === "required") converted = { type: "any" };
  else if (choice === "none") converted = { type: "none" };
  else if (choice !== undefined && choice !== null) converted = { type: "tool", name: choice.function.name };
  if (request.parallel_tool_calls === false && converted?.type !== "none") {
    converted = { ...(converted ?? { type: "auto" }), disable_parallel_tool_use: true };
  }
  return converted;
}

/** The model's limit for this call: the client's, else the model's largest output. */
function maxTokensFor(request: ChatCompletionRequest, maxOutputTokens: number | undefined): number {
  return request.max_completion_tokens ?? request.max_tokens ?? maxOutputTokens ?? FALLBACK_MAX_TOKENS;
}

/** Sampling parameters in Anthropic's ranges; those it refuses while thinking are left out and reported. */
function setSampling(request: ChatCompletionRequest, body: JsonObject, thinkingOn: boolean, dropped: string[]): void {
  // While thinking, Anthropic wants temperature 1 (or none), top_p of at least 0.95 and no top_k.
  if (request.temperature != null) {
    // OpenAI's scale goes to 2, Anthropic's to 1.
    const temperature = Math.min(1, Math.max(0, request.temperature));
    if (thinkingOn && temperature !== 1) dropped.push("temperature");
    else body.temperature = temperature;
  }
  if (request.top_p != null) {
    if (thinkingOn && request.top_p < 0.95) dropped.push("top_p");
    else body.top_p = request.top_p;
  }
  if (request.top_k != null) {
    if (thinkingOn) dropped.push("top_k");
    else body.top_k = request.top_k;
  }
}

/** `json_object`: offers the JSON tool (added to `tools`) and returns the tool choice that makes the model use it. */
function answerThroughJsonTool(
  tools: JsonObject[],
  toolChoice: JsonObject | null,
  thinkingOn: boolean,
): JsonObject | null {
  const clientTools = tools.length > 0;
  tools.push({
    name: JSON_RESPONSE_TOOL,
    description: "Give your whole answer as this tool's input: one JSON object.",
    input_schema: { type: "object" },
  });
  const parallel = toolChoice?.disable_parallel_tool_use === true ? { disable_parallel_tool_use: true } : {};
  // Anthropic refuses forced tool use while thinking: then the model is only offered the tool.
  if (thinkingOn) return { type: "auto", ...parallel };
  if (!clientTools || toolChoice?.type === "none") return { type: "tool", name: JSON_RESPONSE_TOOL, ...parallel };
  // A tool the client named stays forced. Otherwise the model may still call the client's tools, but must answer
  // through a tool: ideally this one.
  return toolChoice?.type === "tool" ? toolChoice : { type: "any", ...parallel };
}

/** OpenAI's chat request as an Anthropic Messages request (`POST {base}/messages`). */
export function buildAnthropicRequest({
  request,
  upstreamModel,
  channel,
  stream,
  maxOutputTokens,
  anthropic,
}: BuildRequestInput): UpstreamHttpRequest {
  const dropped: string[] = [];
  const thinkingModel = upstreamModel.endsWith(THINKING_SUFFIX) || request.model.endsWith(THINKING_SUFFIX);
  const model = upstreamModel.endsWith(THINKING_SUFFIX)
    ? upstreamModel.slice(0, -THINKING_SUFFIX.length)
    : upstreamModel;
  const maxTokens = maxTokensFor(request, maxOutputTokens);
  const { system, messages } = convertMessages(request.messages);

  const body: JsonObject = { model, max_tokens: maxTokens, messages };
  if (system !== null) body.system = system;

  // A native `thinking` object (e.g. adaptive thinking) is Anthropic's own switch and wins over the derived one.
  const nativeThinking = anthropic?.thinking ?? (request as JsonObject).thinking;
  const thinking =
    typeof nativeThinking === "object" && nativeThinking !== null
      ? nativeThinking
      : thinkingFor(request, maxTokens, thinkingModel);
  if (thinking !== null) body.thinking = thinking;
  const thinkingOn = thinking !== null && (thinking as JsonObject).type !== "disabled";

  setSampling(request, body, thinkingOn, dropped);
  if (request.stop != null) {
    const sequences = typeof request.stop === "string" ? [request.stop] : request.stop;
    if (sequences.length > 0) body.stop_sequences = sequences;
  }
  if (request.user != null) body.metadata = { user_id: request.user };
  if (anthropic?.serviceTier !== undefined) body.service_tier = anthropic.serviceTier;
  const cacheControl = anthropic?.cacheControl ?? (request as JsonObject).cache_control;
  if (cacheControl !== undefined && cacheControl !== null) body.cache_control = cacheControl;

  const tools = convertTools(request);
  let toolChoice = tools.length > 0 ? convertToolChoice(request) : null;

  const format = request.response_format;
  if (format?.type === "json_schema") {
    // Native structured output: the JSON arrives as ordinary text.
    body.output_config = { format: { type: "json_schema", schema: format.json_schema.schema ?? { type: "object" } } };
  } else if (format?.type === "json_object") {
    toolChoice = answerThroughJsonTool(tools, toolChoice, thinkingOn);
  }
  if (tools.length > 0) body.tools = tools;
  if (toolChoice !== null) body.tool_choice = toolChoice;
  body.stream = stream;

  for (const [field, value] of Object.entries(request)) {
    if (value === undefined || value === null || HANDLED.has(field)) continue;
    dropped.push(field);
  }

  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: stream ? "text/event-stream" : "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
  };
  if (channel.apiKey !== null) headers["x-api-key"] = channel.apiKey;
  if (anthropic !== undefined && anthropic.betas.length > 0) headers["anthropic-beta"] = anthropic.betas.join(",");
  return {
    url: `${versionedBaseUrl(channel.baseUrl, ANTHROPIC_API_PATH_VERSION)}/messages`,
    method: "POST",
    headers,
    body: JSON.stringify(body),
    ...(dropped.length > 0 ? { droppedParameters: dropped } : {}),
  };
}
