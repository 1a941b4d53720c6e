import type { ChatCompletionChunk } from "../../protocol/chat-completion-response";
import type { SseEvent, StreamItem } from "../types";
import { describeAnthropicError } from "./errors";
import { REASONING_FORMAT } from "./reasoning";
import { JSON_RESPONSE_TOOL } from "./request";
import { finishReasonFor } from "./response";
import { anthropicUsageSchema, mergeAnthropicUsage, toOpenAIUsage, type AnthropicUsage } from "./usage";

type JsonObject = Record<string, unknown>;

/** What each Anthropic content block (by its `index`) turned into on the OpenAI side. */
type OpenBlock =
  | { kind: "text" }
  | { kind: "thinking"; detailIndex: number }
  | { kind: "tool"; toolIndex: number; argumentsSent: boolean }
  | { kind: "json"; contentSent: boolean }
  | { kind: "ignored" };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

const MALFORMED: StreamItem = {
  type: "error",
  error: {
    status: 502,
    type: "upstream_error",
    code: "upstream_invalid_response",
    message: "The upstream provider sent an invalid stream event.",
    param: null,
  },
};

/**
 * Translates Anthropic's stream (`message_start`, `content_block_start|delta|stop`, `message_delta`,
 * `message_stop`, `ping`, `error`) into OpenAI chunks. Content blocks become deltas of the one choice: text as
 * `content`, thinking as `reasoning` plus `reasoning_details` (with the signature, and redacted thinking as
 * encrypted entries), tool use as `tool_calls` numbered in the order the calls started, with `id` and name on each
 * call's first delta. The usage known so far rides on the first chunk (so an abandoned stream can still be billed for
 * its prompt); the final usage follows the finish chunk as a `choices: []` chunk, as OpenAI's `include_usage` does.
 */
export function createAnthropicStreamTransformer(): (event: SseEvent) => StreamItem[] {
  let id = "";
  let model = "";
  let usage: AnthropicUsage = {};
  const blocks = new Map<number, OpenBlock>();
  let nextToolIndex = 0;
  let nextDetailIndex = 0;
  let answeredThroughJsonTool = false;
  let finished = false;

  const chunk = (choices: ChatCompletionChunk["choices"], extra: Partial<ChatCompletionChunk> = {}): StreamItem => ({
    type: "chunk",
    chunk: { id, object: "chat.completion.chunk", created: 0, model, choices, ...extra },
  });
  const delta = (content: JsonObject): StreamItem => chunk([{ index: 0, delta: content, finish_reason: null }]);
  const usageUpdate = (raw: unknown) => {
    const parsed = anthropicUsageSchema.safeParse(raw);
    if (parsed.success) usage = mergeAnthropicUsage(usage, parsed.data);
  };

  function startBlock(index: number, block: JsonObject): StreamItem[] {
    switch (block.type) {
      case "text": {
        blocks.set(index, { kind: "text" });
        const initial = text(block.text);
        return initial === "" ? [] : [delta({ content: initial })];
      }
      case "thinking": {
        const detailIndex = nextDetailIndex++;
        blocks.set(index, { kind: "thinking", detailIndex });
        const initial = text(block.thinking);
        return initial === ""
          ? []
          : [
              delta({
                reasoning: initial,
                reasoning_details: [
                  { type: "reasoning.text", text: initial, format: REASONING_FORMAT, index: detailIndex },
                ],
              }),
            ];
      }
      case "redacted_thinking": {
        blocks.set(index, { kind: "ignored" });
        return [
          delta({
            reasoning_details: [
              {
                type: "reasoning.encrypted",
                data: text(block.data),
                format: REASONING_FORMAT,
                index: nextDetailIndex++,
              },
            ],
          }),
        ];
      }
      case "tool_use": {
        // A tool's input arrives as `input_json_delta`s; the start block's `input` is `{}` unless it came whole.
        const input = isObject(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : "";
        if (block.name === JSON_RESPONSE_TOOL) {
          answeredThroughJsonTool = true;
          blocks.set(index, { kind: "json", contentSent: input !== "" });
          return input === "" ? [] : [delta({ content: input })];
        }
        const toolIndex = nextToolIndex++;
        blocks.set(index, { kind: "tool", toolIndex, argumentsSent: input !== "" });
        return [
          delta({
            tool_calls: [
              {
                index: toolIndex,
                id: text(block.id),
                type: "function",
                function: { name: text(block.name), arguments: input },
              },
            ],
          }),
        ];
      }
      default:
        // Server tools' blocks and whatever Anthropic adds later have no OpenAI equivalent.
        blocks.set(index, { kind: "ignored" });
        return [];
    }
  }

  function blockDelta(index: number, change: JsonObject): StreamItem[] {
    const block = blocks.get(index);
    if (block === undefined) return [];
    switch (change.type) {
      case "text_delta": {
        const piece = text(change.text);
        return block.kind === "text" && piece !== "" ? [delta({ content: piece })] : [];
      }
      case "thinking_delta": {
        const piece = text(change.thinking);
        if (block.kind !== "thinking" || piece === "") return [];
        return [
          delta({
            reasoning: piece,
            reasoning_details: [
              { type: "reasoning.text", text: piece, format: REASONING_FORMAT, index: block.detailIndex },
            ],
          }),
        ];
      }
      case "signature_delta": {
        const signature = text(change.signature);
        if (block.kind !== "thinking" || signature === "") return [];
        return [
          delta({
            reasoning_details: [
              { type: "reasoning.text", text: "", signature, format: REASONING_FORMAT, index: block.detailIndex },
            ],
          }),
        ];
      }
      case "input_json_delta": {
        const piece = text(change.partial_json);
        if (piece === "") return [];
        if (block.kind === "json") {
          block.contentSent = true;
          return [delta({ content: piece })];
        }
        if (block.kind !== "tool") return [];
        block.argumentsSent = true;
        return [delta({ tool_calls: [{ index: block.toolIndex, function: { arguments: piece } }] })];
      }
      default:
        return [];
    }
  }

  function stopBlock(index: number): StreamItem[] {
    const block = blocks.get(index);
    // A call without arguments still gets a JSON object, as it would from OpenAI.
    if (block?.kind === "tool" && !block.argumentsSent) {
      block.argumentsSent = true;
      return [delta({ tool_calls: [{ index: block.toolIndex, function: { arguments: "{}" } }] })];
    }
    if (block?.kind === "json" && !block.contentSent) {
      block.contentSent = true;
      return [delta({ content: "{}" })];
    }
    return [];
  }

  return (event) => {
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      return [MALFORMED];
    }
    if (!isObject(json)) return [MALFORMED];
    const type = typeof json.type === "string" ? json.type : event.event;
    switch (type) {
      case "message_start": {
        const message = isObject(json.message) ? json.message : {};
        id = text(message.id);
        model = text(message.model);
        usageUpdate(message.usage);
        return [
          chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }], {
            usage: toOpenAIUsage(usage),
          }),
        ];
      }
      case "content_block_start":
        if (typeof json.index !== "number" || !isObject(json.content_block)) return [MALFORMED];
        return startBlock(json.index, json.content_block);
      case "content_block_delta":
        if (typeof json.index !== "number" || !isObject(json.delta)) return [MALFORMED];
        return blockDelta(json.index, json.delta);
      case "content_block_stop":
        return typeof json.index === "number" ? stopBlock(json.index) : [];
      case "message_delta": {
        usageUpdate(json.usage);
        const change = isObject(json.delta) ? json.delta : {};
        if (typeof change.stop_reason !== "string" || finished) return [];
        finished = true;
        const onlyJson = answeredThroughJsonTool && nextToolIndex === 0;
        const { finish_reason, native_finish_reason } = finishReasonFor(change.stop_reason, onlyJson);
        // The usage in `message_delta` is cumulative and final: it follows the finish at once, in case the
        // connection closes before `message_stop`.
        return [
          chunk([{ index: 0, delta: {}, finish_reason, native_finish_reason }]),
          chunk([], { usage: toOpenAIUsage(usage) }),
        ];
      }
      case "message_stop":
        return [{ type: "done" }];
      case "error": {
        const error = isObject(json.error) ? json.error : {};
        const errorType = typeof error.type === "string" ? error.type : null;
        const message = typeof error.message === "string" ? error.message : null;
        return [{ type: "error", error: describeAnthropicError(null, errorType, message) }];
      }
      default:
        // `ping` and event types added later.
        return [];
    }
  };
}
