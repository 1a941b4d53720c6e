import { z } from "zod";
import type { ChatCompletion } from "../../protocol/chat-completion-response";
import { normaliseFinishReason } from "../../protocol/finish-reason";
import { REASONING_FORMAT, type ReasoningDetail } from "./reasoning";
import { JSON_RESPONSE_TOOL } from "./request";
import { anthropicUsageSchema, toOpenAIUsage } from "./usage";

const contentBlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().nullish(),
  thinking: z.string().nullish(),
  signature: z.string().nullish(),
  data: z.string().nullish(),
  id: z.string().nullish(),
  name: z.string().nullish(),
  input: z.unknown().optional(),
});

const messageSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  content: z.array(contentBlockSchema).nullish(),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: anthropicUsageSchema.nullish(),
});

/** Tool input as OpenAI's `arguments` text; an argument-less call is `"{}"`, never an empty string. */
export function argumentsText(input: unknown): string {
  if (input === undefined || input === null) return "{}";
  return JSON.stringify(input);
}

/**
 * Anthropic's stop reason as OpenAI's finish reason, with Anthropic's own word kept as `native_finish_reason`.
 * A `json_object` answer ends with `tool_use` (it came through a tool) but is plain content to the client.
 */
export function finishReasonFor(
  stopReason: string | null | undefined,
  answeredThroughJsonTool: boolean,
): { finish_reason: string | null; native_finish_reason: string | null } {
  const native = stopReason ?? null;
  if (native === "tool_use" && answeredThroughJsonTool) return { finish_reason: "stop", native_finish_reason: native };
  return { finish_reason: normaliseFinishReason(native), native_finish_reason: native };
}

/** A non-streamed Messages answer as an OpenAI chat completion. */
export function parseAnthropicResponse(body: unknown): ChatCompletion {
  const message = messageSchema.parse(body);
  let text = "";
  let hasText = false;
  let reasoning = "";
  const reasoningDetails: ReasoningDetail[] = [];
  const toolCalls: { id: string; type: "function"; function: { name: string; arguments: string } }[] = [];
  let jsonAnswer: string | null = null;

  for (const block of message.content ?? []) {
    switch (block.type) {
      case "text":
        text += block.text ?? "";
        hasText = true;
        break;
      case "thinking":
        reasoning += block.thinking ?? "";
        reasoningDetails.push({
          type: "reasoning.text",
          text: block.thinking ?? "",
          signature: block.signature ?? null,
          format: REASONING_FORMAT,
          index: reasoningDetails.length,
        });
        break;
      case "redacted_thinking":
        reasoningDetails.push({
          type: "reasoning.encrypted",
          data: block.data ?? "",
          format: REASONING_FORMAT,
          index: reasoningDetails.length,
        });
        break;
      case "tool_use":
        if (block.name === JSON_RESPONSE_TOOL) {
          jsonAnswer = argumentsText(block.input);
          break;
        }
        toolCalls.push({
          id: block.id ?? `toolu_${toolCalls.length}`,
          type: "function",
          function: { name: block.name ?? "", arguments: argumentsText(block.input) },
        });
        break;
      default:
        // Server tools' blocks, citations and whatever comes next have no OpenAI equivalent.
        break;
    }
  }

  if (jsonAnswer !== null) {
    text += jsonAnswer;
    hasText = true;
  }
  const answer: Record<string, unknown> = {
    role: "assistant",
    content: hasText || toolCalls.length === 0 ? text : null,
    refusal: null,
  };
  if (toolCalls.length > 0) answer.tool_calls = toolCalls;
  if (reasoning !== "") answer.reasoning = reasoning;
  if (reasoningDetails.length > 0) answer.reasoning_details = reasoningDetails;
  return {
    id: message.id ?? "",
    object: "chat.completion",
    created: 0,
    model: message.model ?? "",
    choices: [
      {
        index: 0,
        message: answer,
        ...finishReasonFor(message.stop_reason, jsonAnswer !== null && toolCalls.length === 0),
        logprobs: null,
      },
    ],
    usage: toOpenAIUsage(message.usage ?? {}),
  };
}
