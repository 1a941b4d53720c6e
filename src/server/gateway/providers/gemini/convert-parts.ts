import type { GeminiResponsePart } from "./gemini-types";
import { encryptedReasoningDetail, toolCallSignatureField, type EncryptedReasoningDetail } from "./thought-signatures";

export interface ConvertedToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  extra_content?: { google: { thought_signature: string } };
}

export interface ConvertedParts {
  content: string;
  reasoning: string;
  toolCalls: ConvertedToolCall[];
  reasoningDetails: EncryptedReasoningDetail[];
}

/**
 * Gemini's function calls carry no id (unless the API sends one). Ids are made from the response id and the call's
 * position in the response, so the same answer always yields the same ids, streamed or not, and the fan-out's copies
 * (each its own response) never share one.
 */
export function createToolCallIds(): (
  responseId: string | null | undefined,
  upstreamId: string | null | undefined,
) => string {
  let position = 0;
  return (responseId, upstreamId) => {
    const id = upstreamId ?? `call_${responseId ?? "gemini"}_${position}`;
    position += 1;
    return id;
  };
}

export interface PartsState {
  /** Tool calls already given to this choice (their position in `tool_calls`). */
  toolCalls: number;
  /** Entries already in this choice's `reasoning_details`. */
  reasoningDetails: number;
}

/**
 * One candidate's parts (a whole answer, or one event's slice of a stream) → the pieces of an OpenAI message:
 * thought text (`thought: true`) → reasoning, other text → content, function calls → tool calls with their
 * arguments as JSON text (`{}` when Gemini sends none), thought signatures → see thought-signatures.ts.
 */
export function convertParts(
  parts: readonly GeminiResponsePart[],
  state: PartsState,
  nextToolCallId: (upstreamId: string | null | undefined) => string,
): ConvertedParts {
  const converted: ConvertedParts = { content: "", reasoning: "", toolCalls: [], reasoningDetails: [] };
  for (const part of parts) {
    const signature = part.thoughtSignature ?? undefined;
    if (part.functionCall != null) {
      const id = nextToolCallId(part.functionCall.id);
      converted.toolCalls.push({
        id,
        type: "function",
        function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
        ...(signature === undefined ? {} : toolCallSignatureField(signature)),
      });
      state.toolCalls += 1;
      if (signature !== undefined) {
        converted.reasoningDetails.push(encryptedReasoningDetail(signature, state.reasoningDetails, id));
        state.reasoningDetails += 1;
      }
      continue;
    }
    if (typeof part.text === "string") {
      if (part.thought === true) converted.reasoning += part.text;
      else converted.content += part.text;
    }
    if (signature !== undefined) {
      converted.reasoningDetails.push(encryptedReasoningDetail(signature, state.reasoningDetails));
      state.reasoningDetails += 1;
    }
  }
  return converted;
}
