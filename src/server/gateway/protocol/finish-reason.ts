/** The finish reasons clients see, whatever the provider said. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "error";

/**
 * Providers' own words for why generation stopped (OpenAI, Anthropic, Gemini and compatible servers), mapped onto
 * OpenAI's vocabulary. The provider's word is still returned as `native_finish_reason`.
 */
const NORMALISED: Record<string, FinishReason> = {
  stop: "stop",
  end_turn: "stop",
  stop_sequence: "stop",
  eos: "stop",
  pause_turn: "stop",
  finish_reason_stop: "stop",
  length: "length",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_calls: "tool_calls",
  tool_use: "tool_calls",
  function_call: "tool_calls",
  malformed_function_call: "error",
  content_filter: "content_filter",
  refusal: "content_filter",
  safety: "content_filter",
  recitation: "content_filter",
  blocklist: "content_filter",
  prohibited_content: "content_filter",
  spii: "content_filter",
  image_safety: "content_filter",
  error: "error",
};

export function normaliseFinishReason(native: string | null | undefined): FinishReason | null {
  if (native === null || native === undefined || native === "") return null;
  // Anything unknown still ended the generation normally as far as the client can tell.
  return NORMALISED[native.toLowerCase()] ?? "stop";
}
