import { errors } from "../../errors";
import type { ChatMessage } from "../../protocol/chat-completion-request";
import { thinkingBlocksFrom } from "./reasoning";

/** One Anthropic content block; objects built here, sent as JSON. */
export type AnthropicBlock = Record<string, unknown> & { type: string };

export interface AnthropicMessage {
  role: "user" | "assistant";
  content: AnthropicBlock[];
}

export interface ConvertedMessages {
  /** Every system and developer message, in order; null when there were none. */
  system: string | AnthropicBlock[] | null;
  messages: AnthropicMessage[];
}

type JsonObject = Record<string, unknown>;

/** `cache_control` travels with the part it marks (Anthropic's prompt-caching breakpoints). */
function withCacheControl(block: AnthropicBlock, part: JsonObject): AnthropicBlock {
  return part.cache_control === undefined || part.cache_control === null
    ? block
    : { ...block, cache_control: part.cache_control };
}

function textBlocks(content: string | readonly JsonObject[], keepEmpty = false): AnthropicBlock[] {
  if (typeof content === "string") {
    return content === "" && !keepEmpty ? [] : [{ type: "text", text: content }];
  }
  const blocks: AnthropicBlock[] = [];
  for (const part of content) {
    const text = part.type === "refusal" ? part.refusal : part.text;
    // Anthropic refuses empty text blocks.
    if (typeof text !== "string" || (text === "" && !keepEmpty)) continue;
    blocks.push(withCacheControl({ type: "text", text }, part));
  }
  return blocks;
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/is;

/** `image/jpg` is a common misspelling Anthropic refuses. */
function mediaType(type: string): string {
  const lower = type.toLowerCase();
  return lower === "image/jpg" ? "image/jpeg" : lower;
}

function imageBlock(url: string, param: string): AnthropicBlock {
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  const match = DATA_URL.exec(url);
  if (match === null) {
    throw errors.invalidRequest("An image must be an http(s) URL or a base64 data URL.", param, "invalid_image_url");
  }
  return { type: "image", source: { type: "base64", media_type: mediaType(match[1]!), data: match[2]! } };
}

/** A `file` part: PDFs (inline or by URL) become document blocks, plain text a text document. */
function documentBlock(file: JsonObject, param: string): AnthropicBlock {
  const data = typeof file.file_data === "string" ? file.file_data : null;
  const title = typeof file.filename === "string" && file.filename !== "" ? { title: file.filename } : {};
  if (data !== null && /^https?:\/\//i.test(data))
    return { type: "document", source: { type: "url", url: data }, ...title };
  const match = data === null ? null : DATA_URL.exec(data);
  if (match !== null) {
    const type = match[1]!.toLowerCase();
    if (type === "text/plain") {
      const text = Buffer.from(match[2]!, "base64").toString("utf8");
      return { type: "document", source: { type: "text", media_type: "text/plain", data: text }, ...title };
    }
    if (type === "application/pdf") {
      return { type: "document", source: { type: "base64", media_type: type, data: match[2]! }, ...title };
    }
  }
  throw errors.invalidRequest(
    "Anthropic models accept files as PDF or plain-text base64 data URLs (or a PDF's https URL) in `file_data`.",
    param,
    "unsupported_file",
  );
}

function userBlocks(message: Extract<ChatMessage, { role: "user" }>, param: string): AnthropicBlock[] {
  if (typeof message.content === "string") return textBlocks(message.content);
  const blocks: AnthropicBlock[] = [];
  message.content.forEach((part, position) => {
    const partParam = `${param}.content[${position}]`;
    switch (part.type) {
      case "text":
        blocks.push(...textBlocks([part]));
        break;
      case "image_url":
        blocks.push(withCacheControl(imageBlock(part.image_url.url, `${partParam}.image_url.url`), part));
        break;
      case "file":
        blocks.push(withCacheControl(documentBlock(part.file, `${partParam}.file`), part));
        break;
      case "input_audio":
        throw errors.invalidRequest("Anthropic models do not accept audio input.", partParam, "unsupported_content");
    }
  });
  return blocks;
}

function toolInput(argumentsText: string, param: string): JsonObject {
  // Models call argument-less tools with empty arguments; Anthropic wants an object.
  if (argumentsText.trim() === "") return {};
  let input: unknown;
  try {
    input = JSON.parse(argumentsText);
  } catch {
    input = undefined;
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw errors.invalidRequest("Tool call arguments must be a JSON object.", param, "invalid_tool_arguments");
  }
  return input as JsonObject;
}

function assistantBlocks(message: Extract<ChatMessage, { role: "assistant" }>, param: string): AnthropicBlock[] {
  // Signed thinking goes back first, before the text and tool calls of the same turn, as Anthropic returned it.
  const blocks: AnthropicBlock[] = thinkingBlocksFrom((message as JsonObject).reasoning_details);
  if (message.content !== undefined && message.content !== null) blocks.push(...textBlocks(message.content));
  if (typeof message.refusal === "string" && message.refusal !== "" && (message.content ?? null) === null) {
    blocks.push({ type: "text", text: message.refusal });
  }
  message.tool_calls?.forEach((call, position) => {
    blocks.push(
      withCacheControl(
        {
          type: "tool_use",
          id: call.id,
          name: call.function.name,
          input: toolInput(call.function.arguments, `${param}.tool_calls[${position}].function.arguments`),
        },
        call,
      ),
    );
  });
  return blocks;
}

/**
 * A tool message as a `tool_result` block. OpenAI has no error flag for tool results: `is_error: true` on the message
 * (as the Messages door keeps Anthropic's) is passed on, like the message's `cache_control`.
 */
function toolResultBlock(message: Extract<ChatMessage, { role: "tool" }>): AnthropicBlock {
  const content = typeof message.content === "string" ? message.content : textBlocks(message.content, true);
  const block: AnthropicBlock = { type: "tool_result", tool_use_id: message.tool_call_id, content };
  if (message.is_error === true) block.is_error = true;
  return withCacheControl(block, message);
}

/**
 * OpenAI's message list as Anthropic's: system and developer messages become the top-level `system`; tool results
 * become `tool_result` blocks of a user turn; consecutive turns of the same role are merged, since Anthropic wants
 * user and assistant to alternate (so the results of parallel tool calls share one user turn, first in it).
 */
export function convertMessages(messages: readonly ChatMessage[]): ConvertedMessages {
  const systemBlocks: AnthropicBlock[] = [];
  const converted: AnthropicMessage[] = [];
  const append = (role: AnthropicMessage["role"], content: AnthropicBlock[]) => {
    if (content.length === 0) return;
    const last = converted.at(-1);
    if (last?.role === role) last.content.push(...content);
    else converted.push({ role, content });
  };

  messages.forEach((message, position) => {
    const param = `messages[${position}]`;
    switch (message.role) {
      case "system":
      case "developer":
        systemBlocks.push(...textBlocks(message.content));
        break;
      case "user":
        append("user", userBlocks(message, param));
        break;
      case "assistant":
        append("assistant", assistantBlocks(message, param));
        break;
      case "tool":
        append("user", [toolResultBlock(message)]);
        break;
      case "function":
        throw errors.invalidRequest(
          "Messages with role `function` are not supported for Anthropic models; use `tools` and role `tool`.",
          `${param}.role`,
          "unsupported_role",
        );
    }
  });

  // One plain text stays a string, as Anthropic's own clients send it; otherwise blocks (they carry cache_control).
  const onlyBlock = systemBlocks.length === 1 ? systemBlocks[0] : undefined;
  const system =
    systemBlocks.length === 0
      ? null
      : onlyBlock !== undefined && onlyBlock.cache_control === undefined
        ? (onlyBlock.text as string)
        : systemBlocks;
  return { system, messages: converted };
}
