/**
 * Gemini's `finishReason` → OpenAI's. A candidate that called functions finished with `tool_calls` whatever Gemini
 * says (it says STOP); the caller decides that. Gemini's own word is kept as `native_finish_reason`.
 */
const FINISH_REASONS: Record<string, "stop" | "length" | "content_filter" | "error"> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  IMAGE_RECITATION: "content_filter",
  // The model produced a function call the API could not parse or did not allow: nothing usable came back.
  MALFORMED_FUNCTION_CALL: "error",
  UNEXPECTED_TOOL_CALL: "error",
  TOO_MANY_TOOL_CALLS: "error",
};

export function mapFinishReason(finishReason: string, calledFunctions: boolean): string {
  if (calledFunctions && (finishReason === "STOP" || !(finishReason in FINISH_REASONS))) return "tool_calls";
  // LANGUAGE, OTHER, FINISH_REASON_UNSPECIFIED, and reasons added later: the generation ended, nothing more is known.
  return FINISH_REASONS[finishReason] ?? "stop";
}
