/**
 * What each adapter can carry to its provider, in the catalog's vocabulary of `supported_parameters` (OpenRouter's),
 * so that `/v1/models` only lists what really reaches the model. Parameters outside an adapter's set are left out of
 * the upstream request and named in `x-tollgate-dropped-parameters`.
 */
const COMMON = [
  "tools",
  "tool_choice",
  "response_format",
  "structured_outputs",
  "temperature",
  "top_p",
  "stop",
  "max_tokens",
  "n",
] as const;

export const OPENAI_PARAMETERS: ReadonlySet<string> = new Set([
  ...COMMON,
  "parallel_tool_calls",
  "seed",
  "frequency_penalty",
  "presence_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "reasoning",
  "include_reasoning",
  "verbosity",
]);

export const ANTHROPIC_PARAMETERS: ReadonlySet<string> = new Set([
  ...COMMON,
  "parallel_tool_calls",
  "top_k",
  "reasoning",
  "include_reasoning",
]);

export const GEMINI_PARAMETERS: ReadonlySet<string> = new Set([
  ...COMMON,
  "top_k",
  "seed",
  "frequency_penalty",
  "presence_penalty",
  "reasoning",
  "include_reasoning",
]);
