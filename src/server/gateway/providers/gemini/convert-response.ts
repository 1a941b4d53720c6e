import type { ChatCompletion, ChatCompletionChoice } from "../../protocol/chat-completion-response";
import { convertParts, createToolCallIds, type ConvertedParts } from "./convert-parts";
import { convertUsage } from "./convert-usage";
import { generateContentResponseSchema } from "./gemini-types";
import { mapFinishReason } from "./map-finish-reason";

/** The assistant message OpenAI clients expect, from a candidate's converted parts. */
export function assistantMessage(converted: ConvertedParts | null): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: converted === null || converted.content === "" ? null : converted.content,
    refusal: null,
  };
  if (converted === null) return message;
  if (converted.reasoning !== "") message.reasoning = converted.reasoning;
  if (converted.toolCalls.length > 0) message.tool_calls = converted.toolCalls;
  if (converted.reasoningDetails.length > 0) message.reasoning_details = converted.reasoningDetails;
  return message;
}

/**
 * A generateContent answer → an OpenAI chat completion: one choice per candidate. A prompt Gemini refused to answer
 * (`promptFeedback.blockReason`, no candidates) becomes one empty choice finished by `content_filter`.
 */
export function convertResponse(body: unknown): ChatCompletion {
  const response = generateContentResponseSchema.parse(body);
  const ids = createToolCallIds();
  const candidates = response.candidates ?? [];
  let choices: ChatCompletionChoice[];
  if (candidates.length === 0) {
    const blockReason = response.promptFeedback?.blockReason;
    if (blockReason == null) throw new Error("Gemini answered with neither candidates nor a block reason");
    choices = [
      {
        index: 0,
        message: assistantMessage(null),
        finish_reason: "content_filter",
        native_finish_reason: blockReason,
        logprobs: null,
      },
    ];
  } else {
    choices = candidates.map((candidate, position) => {
      const converted = convertParts(
        candidate.content?.parts ?? [],
        { toolCalls: 0, reasoningDetails: 0 },
        (upstreamId) => ids(response.responseId, upstreamId),
      );
      const native = candidate.finishReason ?? null;
      return {
        index: candidate.index ?? position,
        message: assistantMessage(converted),
        // A whole answer has ended even if Gemini left the reason out.
        finish_reason: mapFinishReason(native ?? "STOP", converted.toolCalls.length > 0),
        native_finish_reason: native,
        logprobs: null,
      };
    });
  }
  return {
    id: response.responseId ?? "",
    object: "chat.completion",
    created: 0,
    model: response.modelVersion ?? "",
    choices,
    usage: response.usageMetadata == null ? null : convertUsage(response.usageMetadata),
  };
}
