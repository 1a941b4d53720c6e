import { versionedBaseUrl } from "../api-base-url";
import type { BuildRequestInput, UpstreamHttpRequest } from "../types";
import { buildGenerationConfig } from "./build-generation-config";
import { convertMessages } from "./convert-messages";
import { convertTools } from "./convert-tools";
import type { GeminiRequestBody } from "./gemini-types";

/**
 * The version in Gemini's paths (`/v1beta/models/…`), added to a base URL given without one, the Google SDKs' form
 * (`https://generativelanguage.googleapis.com`); a base URL ending in another version (`/v1`) keeps it. See
 * api-base-url.ts.
 */
export const GEMINI_API_PATH_VERSION = "v1beta";

/** Request fields the translation uses, or that never concern the model (routing, client bookkeeping). */
const TRANSLATED = new Set([
  "model",
  "messages",
  "tools",
  "tool_choice",
  "response_format",
  "temperature",
  "top_p",
  "top_k",
  "n",
  "stop",
  "max_tokens",
  "max_completion_tokens",
  "frequency_penalty",
  "presence_penalty",
  "seed",
  "stream",
  "stream_options",
  "reasoning_effort",
  "reasoning",
  "include_reasoning",
  "user",
  "metadata",
  "store",
  "models",
  "route",
  "provider",
]);

/**
 * Every other field set to something that would change the answer is reported as dropped: Gemini has no equivalent
 * (logit_bias, logprobs, prediction, …) or no way to honour it (`parallel_tool_calls: false`).
 */
function droppedParameters(request: BuildRequestInput["request"]): string[] {
  const dropped: string[] = [];
  for (const [field, value] of Object.entries(request)) {
    if (TRANSLATED.has(field) || value === undefined || value === null) continue;
    // Their defaults ask for nothing Gemini lacks.
    if (field === "logprobs" && value === false) continue;
    if (field === "parallel_tool_calls" && value === true) continue;
    dropped.push(field);
  }
  return dropped;
}

export function modelPath(upstreamModel: string): string {
  // Tuned models are addressed as `tunedModels/…`; everything else lives under `models/`.
  return /^(models|tunedModels)\//.test(upstreamModel) ? upstreamModel : `models/${upstreamModel}`;
}

/**
 * `{base}/v1beta/models/{model}:generateContent` (the version only when the base URL has none), or
 * `:streamGenerateContent?alt=sse` for a stream.
 */
export function buildGeminiRequest({
  request,
  upstreamModel,
  channel,
  stream,
}: BuildRequestInput): UpstreamHttpRequest {
  const generationConfig = buildGenerationConfig(request, upstreamModel);
  const body: GeminiRequestBody = {
    ...convertMessages(request.messages),
    ...convertTools(request),
    ...(generationConfig === undefined ? {} : { generationConfig }),
  };
  const base = versionedBaseUrl(channel.baseUrl, GEMINI_API_PATH_VERSION);
  const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: stream ? "text/event-stream" : "application/json",
  };
  if (channel.apiKey !== null) headers["x-goog-api-key"] = channel.apiKey;
  const dropped = droppedParameters(request);
  return {
    url: `${base}/${modelPath(upstreamModel)}:${method}`,
    method: "POST",
    headers,
    body: JSON.stringify(body),
    ...(dropped.length > 0 ? { droppedParameters: dropped } : {}),
  };
}
