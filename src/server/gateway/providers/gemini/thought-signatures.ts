/*
 * Gemini signs its reasoning with opaque `thoughtSignature`s attached to response parts, and (from gemini-3 on)
 * refuses a follow-up whose function calls come back without theirs. OpenAI's message format has no place for them,
 * so they travel in the two places OpenAI-style clients already know to keep:
 *
 * - on each tool call, as `extra_content.google.thought_signature`, which is what Gemini's own OpenAI-compatible
 *   endpoint does (clients written for it keep working);
 * - in the message's `reasoning_details`, OpenRouter's format: `{type: "reasoning.encrypted", data, format,
 *   index, id?}`, where `id` names the tool call the signature belongs to and is absent for a signature on text.
 *
 * Both are read back from assistant messages on the next turn; signatures in another provider's format are ignored
 * (Gemini refuses a signature it did not make).
 */

export const GEMINI_REASONING_FORMAT = "google-gemini-v1";

export interface EncryptedReasoningDetail {
  type: "reasoning.encrypted";
  data: string;
  format: typeof GEMINI_REASONING_FORMAT;
  index: number;
  id?: string;
}

export function encryptedReasoningDetail(
  signature: string,
  index: number,
  toolCallId?: string,
): EncryptedReasoningDetail {
  return {
    type: "reasoning.encrypted",
    data: signature,
    format: GEMINI_REASONING_FORMAT,
    index,
    ...(toolCallId === undefined ? {} : { id: toolCallId }),
  };
}

/** Gemini's OpenAI-compatible endpoint's field on a tool call. */
export function toolCallSignatureField(signature: string): {
  extra_content: { google: { thought_signature: string } };
} {
  return { extra_content: { google: { thought_signature: signature } } };
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function signatureOnToolCall(toolCall: unknown): string | undefined {
  if (!isObject(toolCall) || !isObject(toolCall.extra_content)) return undefined;
  const google = toolCall.extra_content.google;
  if (!isObject(google)) return undefined;
  const signature = google.thought_signature ?? google.thoughtSignature;
  return typeof signature === "string" && signature !== "" ? signature : undefined;
}

export interface MessageSignatures {
  /** By tool call id. */
  byToolCall: Map<string, string>;
  /** Signatures not tied to a tool call (Gemini attaches them to text parts). */
  unassigned: string[];
}

/** The thought signatures an assistant message carries back, wherever the client kept them. */
export function readThoughtSignatures(message: {
  tool_calls?: unknown;
  reasoning_details?: unknown;
}): MessageSignatures {
  const byToolCall = new Map<string, string>();
  const unassigned: string[] = [];
  const toolCallIds = new Set<string>();
  if (Array.isArray(message.tool_calls)) {
    for (const toolCall of message.tool_calls as unknown[]) {
      if (!isObject(toolCall) || typeof toolCall.id !== "string") continue;
      toolCallIds.add(toolCall.id);
      const signature = signatureOnToolCall(toolCall);
      if (signature !== undefined) byToolCall.set(toolCall.id, signature);
    }
  }
  if (Array.isArray(message.reasoning_details)) {
    for (const detail of message.reasoning_details as unknown[]) {
      if (!isObject(detail) || detail.type !== "reasoning.encrypted") continue;
      if (typeof detail.data !== "string" || detail.data === "") continue;
      if (detail.format !== undefined && detail.format !== null) {
        if (typeof detail.format !== "string" || !detail.format.startsWith("google")) continue;
      }
      const id = typeof detail.id === "string" ? detail.id : undefined;
      if (id !== undefined && toolCallIds.has(id)) {
        if (!byToolCall.has(id)) byToolCall.set(id, detail.data);
      } else if (!unassigned.includes(detail.data) && ![...byToolCall.values()].includes(detail.data)) {
        unassigned.push(detail.data);
      }
    }
  }
  return { byToolCall, unassigned };
}
