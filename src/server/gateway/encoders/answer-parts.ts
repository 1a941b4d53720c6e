import type { ChatCompletionChunkChoice } from "../protocol/chat-completion-response";

/**
 * The parts of an answer in no door's format, read off the gateway's internal chunks: what the Anthropic Messages and
 * OpenAI Responses encoders turn into their events. Reasoning keeps its signature and encrypted forms, with the
 * format that says which provider can read them back on the next turn.
 */
export type AnswerPart =
  | { type: "text"; choice: number; text: string }
  | { type: "refusal"; choice: number; text: string }
  | { type: "reasoning"; choice: number; text: string }
  | { type: "reasoning-signature"; choice: number; signature: string; format: string | null }
  /** Reasoning the provider gives back only encrypted (Anthropic's redacted thinking, Gemini's thought signatures). */
  | { type: "reasoning-encrypted"; choice: number; data: string; format: string | null; id: string | null }
  | { type: "tool-call-start"; choice: number; index: number; id: string; name: string }
  | { type: "tool-call-arguments"; choice: number; index: number; arguments: string }
  /** `reason` in OpenAI's vocabulary; `native` as the upstream said it. */
  | { type: "finish"; choice: number; reason: string; native: string | null };

const textOf = (value: unknown): string => (typeof value === "string" ? value : "");

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** OpenRouter's `reasoning_details` entries as parts (text, summary, signature, encrypted). */
function reasoningDetailParts(choice: number, details: readonly unknown[], parts: AnswerPart[]): void {
  for (const detail of details) {
    if (!isObject(detail)) continue;
    const format = typeof detail.format === "string" ? detail.format : null;
    if (detail.type === "reasoning.text" || detail.type === "reasoning.summary") {
      const text = textOf(detail.type === "reasoning.text" ? detail.text : detail.summary);
      if (text !== "") parts.push({ type: "reasoning", choice, text });
      const signature = textOf(detail.signature);
      if (signature !== "") parts.push({ type: "reasoning-signature", choice, signature, format });
    } else if (detail.type === "reasoning.encrypted") {
      const data = textOf(detail.data);
      const id = typeof detail.id === "string" ? detail.id : null;
      if (data !== "") parts.push({ type: "reasoning-encrypted", choice, data, format, id });
    }
  }
}

/**
 * The parts of one choice's delta (a stream) or message (a whole answer), in the order a reader meets them:
 * reasoning before the text it led to, text before the tool calls, the finish last. Reasoning comes from
 * `reasoning_details` where the upstream gave them (they carry the signatures), from `reasoning` otherwise.
 */
export function answerParts(
  choice: number,
  delta: JsonObject,
  finishReason: string | null,
  nativeFinishReason: unknown,
): AnswerPart[] {
  const parts: AnswerPart[] = [];
  const details = delta.reasoning_details;
  if (Array.isArray(details) && details.length > 0) {
    reasoningDetailParts(choice, details, parts);
  } else {
    const reasoning = textOf(delta.reasoning);
    if (reasoning !== "") parts.push({ type: "reasoning", choice, text: reasoning });
  }
  const content = textOf(delta.content);
  if (content !== "") parts.push({ type: "text", choice, text: content });
  const refusal = textOf(delta.refusal);
  if (refusal !== "") parts.push({ type: "refusal", choice, text: refusal });
  if (Array.isArray(delta.tool_calls)) {
    delta.tool_calls.forEach((call: unknown, position) => {
      if (!isObject(call)) return;
      const index = typeof call.index === "number" ? call.index : position;
      const fn = isObject(call.function) ? call.function : {};
      if (typeof call.id === "string" && call.id !== "") {
        parts.push({ type: "tool-call-start", choice, index, id: call.id, name: textOf(fn.name) });
      }
      const args = textOf(fn.arguments);
      if (args !== "") parts.push({ type: "tool-call-arguments", choice, index, arguments: args });
    });
  }
  if (finishReason !== null) {
    const native = typeof nativeFinishReason === "string" ? nativeFinishReason : null;
    parts.push({ type: "finish", choice, reason: finishReason, native });
  }
  return parts;
}

/** The parts of a stream chunk's choice. */
export function chunkChoiceParts(choice: ChatCompletionChunkChoice): AnswerPart[] {
  return answerParts(choice.index, choice.delta, choice.finish_reason, choice.native_finish_reason);
}
