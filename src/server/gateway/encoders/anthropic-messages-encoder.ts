import type { TokenUsage } from "../billing/compute-cost";
import { nanoToUsdNumber } from "../billing/money";
import type { ChatCompletionChunk } from "../protocol/chat-completion-response";
import { anthropicErrorType } from "../protocol/anthropic-errors";
import { ANTHROPIC_STOP_REASONS } from "../protocol/anthropic-message-schemas";
import type { UpstreamErrorInfo } from "../providers/types";
import type { AnswerIdentity, AnswerUsage, StreamFormat, WholeAnswerEncoder } from "./answer-encoder";
import { answerParts, chunkChoiceParts, type AnswerPart } from "./answer-parts";

/** Anthropic's own stop reasons: passed on as they came when the upstream was Anthropic. */
const ANTHROPIC_STOP_REASON_SET = new Set<string>(ANTHROPIC_STOP_REASONS);

/** OpenAI's finish reasons in Anthropic's words. */
const STOP_REASON_OF: Record<string, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
};

export function anthropicStopReason(reason: string, native: string | null): string {
  if (native !== null && ANTHROPIC_STOP_REASON_SET.has(native)) return native;
  return STOP_REASON_OF[reason] ?? "end_turn";
}

/**
 * Anthropic's usage from the gateway's: its `input_tokens` leaves out what was read from or written to the cache,
 * which it counts apart. `cost` is the USD billed, as OpenRouter adds it.
 */
export function anthropicUsage(usage: TokenUsage, costNano: bigint | null): Record<string, unknown> {
  return {
    input_tokens: Math.max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens),
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedTokens,
    ...(costNano === null ? {} : { cost: nanoToUsdNumber(costNano) }),
  };
}

/** A tool call the model made itself (`caller`: Anthropic's SDK types require it since programmatic tool calling). */
function toolUseBlock(id: string, name: string): Record<string, unknown> {
  return { type: "tool_use", id, name, input: {}, caller: { type: "direct" } };
}

function sse(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

const PING = sse("ping", {});

type OpenBlock = { kind: "text" } | { kind: "thinking" } | { kind: "tool"; index: number } | null;

/**
 * Anthropic's streamed Messages events: `message_start` (with the input tokens known so far: clients such as Claude
 * Code read usage from it), a content block per text, thinking (with its signature) and tool call, each opened,
 * filled and closed in order, `message_delta` with the stop reason and the billed usage, then `message_stop`.
 * `ping` keeps the connection alive while the upstream thinks; a failure after the stream began is an `error` event.
 * Only the first choice is relayed: Anthropic's API answers one.
 */
export function anthropicMessagesStream(promptTokens: number): StreamFormat {
  return {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
    keepAlive: PING,
    encoder(identity: AnswerIdentity) {
      let started = false;
      let open: OpenBlock = null;
      let blocks = 0;
      let stopReason: string | null = null;

      const start = (usage: () => AnswerUsage): string => {
        if (started) return "";
        started = true;
        const { metered } = usage();
        // The upstream's count when it gave one (Anthropic does, in its own message_start), the gateway's otherwise.
        const known = metered.usage.promptTokens > 0 ? metered.usage : { ...metered.usage, promptTokens: promptTokens };
        return sse("message_start", {
          message: {
            id: identity.id,
            type: "message",
            role: "assistant",
            model: identity.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...anthropicUsage({ ...known, completionTokens: 1 }, null) },
          },
        });
      };
      const close = (): string => {
        if (open === null) return "";
        open = null;
        return sse("content_block_stop", { index: blocks - 1 });
      };
      const openBlock = (block: OpenBlock, contentBlock: Record<string, unknown>): string => {
        const out = close() + sse("content_block_start", { index: blocks, content_block: contentBlock });
        blocks += 1;
        open = block;
        return out;
      };
      const delta = (value: Record<string, unknown>) => sse("content_block_delta", { index: blocks - 1, delta: value });

      const encodePart = (part: AnswerPart): string => {
        switch (part.type) {
          case "text":
          case "refusal": {
            const opening = open?.kind === "text" ? "" : openBlock({ kind: "text" }, { type: "text", text: "" });
            return opening + delta({ type: "text_delta", text: part.text });
          }
          case "reasoning": {
            const opening =
              open?.kind === "thinking"
                ? ""
                : openBlock({ kind: "thinking" }, { type: "thinking", thinking: "", signature: "" });
            return opening + delta({ type: "thinking_delta", thinking: part.text });
          }
          case "reasoning-signature": {
            const opening =
              open?.kind === "thinking"
                ? ""
                : openBlock({ kind: "thinking" }, { type: "thinking", thinking: "", signature: "" });
            // The signature closes its thinking block: the next thinking is another block.
            return opening + delta({ type: "signature_delta", signature: part.signature }) + close();
          }
          case "reasoning-encrypted":
            return (
              openBlock(null, { type: "redacted_thinking", data: part.data }) +
              sse("content_block_stop", { index: blocks - 1 })
            );
          case "tool-call-start":
            return openBlock({ kind: "tool", index: part.index }, toolUseBlock(part.id, part.name));
          case "tool-call-arguments":
            // Arguments belong to the tool call they name; one that is not the open block is out of order and dropped.
            return open?.kind === "tool" && open.index === part.index
              ? delta({ type: "input_json_delta", partial_json: part.arguments })
              : "";
          case "finish":
            stopReason = anthropicStopReason(part.reason, part.native);
            return "";
        }
      };

      const finishing = (usage: () => AnswerUsage): string => {
        const { metered } = usage();
        return (
          close() +
          sse("message_delta", {
            delta: { stop_reason: stopReason ?? "end_turn", stop_sequence: null },
            usage: anthropicUsage(metered.usage, metered.costNano),
          }) +
          sse("message_stop", {})
        );
      };

      return {
        chunk(chunk: ChatCompletionChunk, _lastFinish, usage) {
          let out = start(usage);
          for (const choice of chunk.choices) {
            if (choice.index !== 0) continue;
            for (const part of chunkChoiceParts(choice)) out += encodePart(part);
          }
          return out;
        },
        end(usage) {
          return start(usage) + finishing(usage);
        },
        fail(failure: UpstreamErrorInfo) {
          // What was produced stays as sent; the error ends the stream (Anthropic's SDKs raise it).
          return (
            (started ? close() : "") +
            sse("error", { error: { type: anthropicErrorType(failure.status), message: failure.message } })
          );
        },
      };
    },
  };
}

/** A whole Messages answer: the first choice's parts as content blocks, with the stop reason and billed usage. */
export const anthropicMessageBody: WholeAnswerEncoder = (identity, completion, { metered }) => {
  const choice = completion.choices[0];
  const content: Record<string, unknown>[] = [];
  let stopReason = "end_turn";
  if (choice !== undefined) {
    let thinking: { type: "thinking"; thinking: string; signature: string } | null = null;
    for (const part of answerParts(0, choice.message, choice.finish_reason, choice.native_finish_reason)) {
      switch (part.type) {
        case "reasoning":
          if (thinking === null || thinking.signature !== "") {
            thinking = { type: "thinking", thinking: "", signature: "" };
            content.push(thinking);
          }
          thinking.thinking += part.text;
          break;
        case "reasoning-signature":
          if (thinking === null || thinking.signature !== "") {
            thinking = { type: "thinking", thinking: "", signature: "" };
            content.push(thinking);
          }
          thinking.signature = part.signature;
          break;
        case "reasoning-encrypted":
          content.push({ type: "redacted_thinking", data: part.data });
          break;
        case "text":
        case "refusal":
          content.push({ type: "text", text: part.text });
          break;
        case "tool-call-start":
          content.push(toolUseBlock(part.id, part.name));
          break;
        case "tool-call-arguments": {
          const block = content.at(-1);
          if (block?.type === "tool_use") block.input = parseToolInput(part.arguments);
          break;
        }
        case "finish":
          stopReason = anthropicStopReason(part.reason, part.native);
          break;
      }
    }
  }
  return {
    id: identity.id,
    type: "message",
    role: "assistant",
    model: identity.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: anthropicUsage(metered.usage, metered.costNano),
  };
};

/** A tool call's arguments as the object Anthropic's `input` is; text that is not a JSON object is kept under `_raw`. */
function parseToolInput(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Falls through: the model wrote something that is not JSON.
  }
  return { _raw: text };
}
