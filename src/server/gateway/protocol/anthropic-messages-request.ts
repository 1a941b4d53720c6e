import { z } from "zod";
import type { AnthropicOptions } from "../providers/types";
import { MIN_THINKING_BUDGET, REASONING_FORMAT } from "../providers/anthropic/reasoning";
import { providerPreferences, type ChatCompletionRequest, type ChatMessage } from "./chat-completion-request";
import { imageUrlProblem } from "./image-url";

/*
 * The request body of POST /v1/messages, as Anthropic documents its Messages API, plus OpenRouter's routing fields
 * (`models`, `provider`). The door parses it here and translates it into the gateway's common request (OpenAI's chat
 * request with OpenRouter's extensions), which every provider adapter speaks; the Anthropic adapter turns it back
 * into the same Anthropic request (the unit tests replay the recorded ones through both steps).
 *
 * Objects are loose, as in chat-completion-request.ts, but a field this file does not know is not carried into the
 * common request: it would be an Anthropic field sent to providers that do not speak Anthropic.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const integer = () => z.number().int();

const jsonObject = z.record(z.string(), z.unknown());

/** A prompt-caching breakpoint. */
const cacheControl = z.looseObject({
  type: z.literal("ephemeral"),
  ttl: nullish(z.enum(["5m", "1h"])),
});

type CacheControl = z.infer<typeof cacheControl>;

const httpsUrl = z.string().regex(/^https:\/\/\S+$/i, "must be an https URL");

const textBlock = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: nullish(cacheControl),
});

/** The image types Anthropic reads. */
const IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"] as const;

const base64ImageSource = z
  .looseObject({
    type: z.literal("base64"),
    media_type: z.enum(IMAGE_MEDIA_TYPES),
    data: z.string().min(1),
  })
  .superRefine((source, context) => {
    // The chat door's rule for inline images (image-url.ts), so that broken base64 is refused here for every provider.
    const problem = imageUrlProblem(imageDataUrl(source));
    if (problem !== null) context.addIssue({ code: "custom", message: problem, path: ["data"] });
  });

const imageBlock = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [base64ImageSource, z.looseObject({ type: z.literal("url"), url: httpsUrl })]),
  cache_control: nullish(cacheControl),
});

const documentBlock = z.looseObject({
  type: z.literal("document"),
  source: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("base64"), media_type: z.literal("application/pdf"), data: z.string().min(1) }),
    z.looseObject({ type: z.literal("text"), media_type: z.literal("text/plain"), data: z.string() }),
    z.looseObject({ type: z.literal("url"), url: httpsUrl.describe("A PDF's https URL") }),
  ]),
  title: nullish(z.string()),
  context: nullish(z.string()),
  cache_control: nullish(cacheControl),
});

const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: nullish(z.union([z.string(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))])),
  is_error: nullish(z.boolean()),
  cache_control: nullish(cacheControl),
});

const userBlock = z.discriminatedUnion("type", [textBlock, imageBlock, documentBlock, toolResultBlock]);

const thinkingBlock = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string(),
});

const redactedThinkingBlock = z.looseObject({
  type: z.literal("redacted_thinking"),
  data: z.string(),
});

const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: jsonObject,
  cache_control: nullish(cacheControl),
});

const assistantBlock = z.discriminatedUnion("type", [textBlock, thinkingBlock, redactedThinkingBlock, toolUseBlock]);

const userMessageSchema = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(userBlock).min(1)]),
});

const assistantMessageSchema = z.looseObject({
  role: z.literal("assistant"),
  content: z.union([z.string(), z.array(assistantBlock)]),
});

const messageSchema = z.discriminatedUnion("role", [userMessageSchema, assistantMessageSchema]);

/**
 * Why a tool with another `type` is refused: Anthropic's server tools (web search, web fetch, code execution) run on
 * Anthropic's side and are billed there, outside this gateway's metering; its client tools with a schema of their own
 * (bash, text editor, computer use) only exist on Anthropic models. The gateway routes one request to several
 * providers, so it takes only the tools every provider can offer: custom tools with an `input_schema`.
 */
function builtInToolRefusal(type: string): string {
  return (
    `\`${type}\` is one of Anthropic's built-in (server or client) tools, which the gateway cannot offer across ` +
    'providers; declare a custom tool (`type` "custom" or none) with a `name` and an `input_schema` instead'
  );
}

const customTool = z.looseObject({
  // First in the shape, so that a built-in tool is refused for its type rather than for its missing input_schema.
  type: nullish(
    z.string().superRefine((type, context) => {
      if (type !== "custom") context.addIssue({ code: "custom", message: builtInToolRefusal(type) });
    }),
  ),
  name: z.string().min(1),
  description: nullish(z.string()),
  input_schema: jsonObject.describe("A JSON Schema object"),
  strict: nullish(z.boolean()),
  cache_control: nullish(cacheControl),
});

const toolChoice = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal(["auto", "any", "none"]), disable_parallel_tool_use: nullish(z.boolean()) }),
  z.looseObject({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: nullish(z.boolean()) }),
]);

const thinking = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("enabled"), budget_tokens: integer().min(MIN_THINKING_BUDGET) }),
  z.looseObject({ type: z.literal("disabled") }),
  z.looseObject({ type: z.literal("adaptive") }),
]);

const outputFormat = z.looseObject({ type: z.literal("json_schema"), schema: jsonObject });

const EFFORTS = ["low", "medium", "high", "xhigh", "max"] as const;

export const anthropicMessagesRequestSchema = z.looseObject({
  model: z.string().min(1).describe("Model id, e.g. `anthropic/claude-sonnet-4.5`; GET /v1/models lists them"),
  max_tokens: integer().min(1),
  messages: z.array(messageSchema).min(1),
  system: nullish(z.union([z.string(), z.array(textBlock)])),
  stop_sequences: nullish(z.array(z.string())),
  temperature: nullish(z.number().min(0).max(1)),
  top_p: nullish(z.number().min(0).max(1)),
  top_k: nullish(integer().min(0)),
  stream: nullish(z.boolean()),
  metadata: nullish(z.looseObject({ user_id: nullish(z.string()) })),
  tools: nullish(z.array(customTool)),
  tool_choice: nullish(toolChoice),
  thinking: nullish(thinking),
  cache_control: nullish(cacheControl),
  /** Structured outputs as their beta introduced them; now `output_config.format`. Both are accepted. */
  output_format: nullish(outputFormat),
  output_config: nullish(z.looseObject({ format: nullish(outputFormat), effort: nullish(z.enum(EFFORTS)) })),
  service_tier: nullish(z.string()),
  models: nullish(z.array(z.string().min(1)).min(1)).describe("Fallback models, tried in order"),
  provider: nullish(providerPreferences),
});

export type AnthropicMessagesRequest = z.infer<typeof anthropicMessagesRequestSchema>;

type AnthropicMessage = z.infer<typeof messageSchema>;
type UserMessage = Extract<ChatMessage, { role: "user" }>;
type UserPart = Exclude<UserMessage["content"], string>[number];
type TextPart = Extract<UserPart, { type: "text" }>;
type ToolCall = NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number];
type Reasoning = NonNullable<ChatCompletionRequest["reasoning"]>;

/** OpenAI's file parts want a name; Anthropic's documents may have none. */
const DEFAULT_DOCUMENT_NAME = "document.pdf";

function imageDataUrl(source: { media_type: string; data: string }): string {
  return `data:${source.media_type};base64,${source.data}`;
}

/** `cache_control` rides on the part, tool or message it marks: the Anthropic adapter puts it back on the block. */
function withCacheControl<T extends object>(
  target: T,
  block: { cache_control?: CacheControl | null },
): T & { cache_control?: CacheControl } {
  return block.cache_control == null ? target : { ...target, cache_control: block.cache_control };
}

function textPart(block: z.infer<typeof textBlock>): TextPart {
  return withCacheControl({ type: "text" as const, text: block.text }, block);
}

function imagePart(block: z.infer<typeof imageBlock>): UserPart {
  const url = block.source.type === "base64" ? imageDataUrl(block.source) : block.source.url;
  return withCacheControl({ type: "image_url" as const, image_url: { url } }, block);
}

/**
 * Documents. A PDF becomes a `file` part: inline as a base64 data URL, or by its https URL in `file_data`. The URL
 * form is OpenRouter's convention for PDFs by URL, and the Anthropic adapter reads it back as a `url` document, so an
 * Anthropic channel gets exactly what the client sent (the gateway never fetches the URL; providers that cannot take
 * one refuse it). A plain-text document becomes a text part, the one form every provider reads; its title and its
 * document framing (citations) are Anthropic's alone and are not carried.
 */
function documentPart(block: z.infer<typeof documentBlock>): UserPart {
  const { source } = block;
  if (source.type === "text") return withCacheControl({ type: "text" as const, text: source.data }, block);
  const fileData = source.type === "base64" ? `data:application/pdf;base64,${source.data}` : source.url;
  const filename = block.title != null && block.title !== "" ? block.title : DEFAULT_DOCUMENT_NAME;
  return withCacheControl({ type: "file" as const, file: { file_data: fileData, filename } }, block);
}

/**
 * A `tool_result` as a tool message. Its text is the message's content (text blocks joined by blank lines); Anthropic's
 * error flag stays on the message only when set, for the Anthropic adapter (others ignore it). Its images cannot go
 * in a tool message: the caller moves them into the user message that follows.
 */
function toolMessage(block: z.infer<typeof toolResultBlock>): ChatMessage {
  const content =
    typeof block.content === "string"
      ? block.content
      : (block.content ?? []).flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n\n");
  const converted: ChatMessage = { role: "tool", tool_call_id: block.tool_use_id, content };
  if (block.is_error === true) converted.is_error = true;
  return withCacheControl(converted, block);
}

/**
 * One Anthropic user turn. Its tool results become tool messages, first and in order (OpenAI wants them right after
 * the assistant's tool calls); everything else, with the tool results' images ahead of it, becomes one user message.
 */
function userMessages(turn: Extract<AnthropicMessage, { role: "user" }>): ChatMessage[] {
  if (typeof turn.content === "string") return [{ role: "user", content: turn.content }];
  const toolMessages: ChatMessage[] = [];
  const toolImages: UserPart[] = [];
  const parts: UserPart[] = [];
  for (const block of turn.content) {
    switch (block.type) {
      case "tool_result":
        toolMessages.push(toolMessage(block));
        if (Array.isArray(block.content)) {
          for (const part of block.content) if (part.type === "image") toolImages.push(imagePart(part));
        }
        break;
      case "text":
        parts.push(textPart(block));
        break;
      case "image":
        parts.push(imagePart(block));
        break;
      case "document":
        parts.push(documentPart(block));
        break;
    }
  }
  const rest = [...toolImages, ...parts];
  return rest.length === 0 ? toolMessages : [...toolMessages, { role: "user", content: rest }];
}

/**
 * One Anthropic assistant turn. Signed thinking becomes OpenRouter's `reasoning_details` (with `reasoning`, its text),
 * which the Anthropic adapter turns back into the same thinking and redacted_thinking blocks, first in the turn.
 */
function assistantMessage(turn: Extract<AnthropicMessage, { role: "assistant" }>): ChatMessage {
  if (typeof turn.content === "string") return { role: "assistant", content: turn.content };
  const texts: TextPart[] = [];
  const thoughts: string[] = [];
  const details: Record<string, unknown>[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of turn.content) {
    switch (block.type) {
      case "text":
        texts.push(textPart(block));
        break;
      case "thinking":
        thoughts.push(block.thinking);
        details.push({
          type: "reasoning.text",
          text: block.thinking,
          signature: block.signature,
          format: REASONING_FORMAT,
          index: details.length,
        });
        break;
      case "redacted_thinking":
        details.push({
          type: "reasoning.encrypted",
          data: block.data,
          format: REASONING_FORMAT,
          index: details.length,
        });
        break;
      case "tool_use":
        toolCalls.push(
          withCacheControl(
            {
              id: block.id,
              type: "function" as const,
              function: { name: block.name, arguments: JSON.stringify(block.input) },
            },
            block,
          ),
        );
        break;
    }
  }
  const onlyText = texts.length === 1 ? texts[0] : undefined;
  const content =
    texts.length === 0
      ? toolCalls.length > 0
        ? null
        : ""
      : onlyText !== undefined && onlyText.cache_control === undefined
        ? onlyText.text
        : texts;
  const converted: ChatMessage = { role: "assistant", content };
  if (toolCalls.length > 0) converted.tool_calls = toolCalls;
  if (thoughts.length > 0) converted.reasoning = thoughts.join("\n\n");
  if (details.length > 0) converted.reasoning_details = details;
  return converted;
}

function systemMessage(system: AnthropicMessagesRequest["system"]): ChatMessage[] {
  if (system == null) return [];
  if (typeof system === "string") return [{ role: "system", content: system }];
  return system.length === 0 ? [] : [{ role: "system", content: system.map(textPart) }];
}

function toolChoiceFields(
  choice: NonNullable<AnthropicMessagesRequest["tool_choice"]>,
): Partial<ChatCompletionRequest> {
  const fields: Partial<ChatCompletionRequest> = {
    tool_choice:
      choice.type === "tool"
        ? { type: "function", function: { name: choice.name } }
        : ({ auto: "auto", any: "required", none: "none" } as const)[choice.type],
  };
  if (choice.disable_parallel_tool_use === true) fields.parallel_tool_calls = false;
  return fields;
}

/** Anthropic's effort in the common vocabulary, which stops at `xhigh`. */
function commonEffort(effort: (typeof EFFORTS)[number]): NonNullable<Reasoning["effort"]> {
  return effort === "max" ? "xhigh" : effort;
}

/**
 * OpenRouter's `reasoning` for the providers that read it (OpenAI-compatible, Gemini). The Anthropic adapter reads
 * the native `thinking` object instead, which wins there, so nothing is asked for twice. Adaptive thinking is steered
 * by `output_config.effort`, which becomes the effort; with budgeted thinking the budget says it all.
 */
function reasoningFor(
  choice: NonNullable<AnthropicMessagesRequest["thinking"]>,
  effort: (typeof EFFORTS)[number] | null | undefined,
): Reasoning {
  switch (choice.type) {
    case "enabled":
      return { max_tokens: choice.budget_tokens };
    case "adaptive":
      return effort == null ? { enabled: true } : { enabled: true, effort: commonEffort(effort) };
    case "disabled":
      return { enabled: false };
  }
}

/**
 * The Messages request as the gateway's common request. It is not validated again by the chat schema (Anthropic
 * allows more than OpenAI's four stop sequences, for one), so the adapters must take it as it is.
 *
 * Not carried: `output_config.effort` without adaptive thinking (the Anthropic adapter has no native way to send it
 * yet, and as a common `reasoning.effort` it would switch thinking on), and fields this schema does not name.
 */
export function toChatRequest(request: AnthropicMessagesRequest): ChatCompletionRequest {
  const messages: ChatMessage[] = [...systemMessage(request.system)];
  for (const turn of request.messages) {
    if (turn.role === "user") messages.push(...userMessages(turn));
    else messages.push(assistantMessage(turn));
  }

  const chat: ChatCompletionRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.stream != null) chat.stream = request.stream;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  if (request.top_k != null) chat.top_k = request.top_k;
  if (request.stop_sequences != null) chat.stop = request.stop_sequences;
  if (request.metadata?.user_id != null) chat.user = request.metadata.user_id;
  if (request.tools != null) {
    chat.tools = request.tools.map((tool) =>
      withCacheControl(
        {
          type: "function" as const,
          function: {
            name: tool.name,
            parameters: tool.input_schema,
            ...(tool.description != null ? { description: tool.description } : {}),
            ...(tool.strict != null ? { strict: tool.strict } : {}),
          },
        },
        tool,
      ),
    );
  }
  if (request.tool_choice != null) Object.assign(chat, toolChoiceFields(request.tool_choice));
  // Anthropic's own `thinking` object goes to Anthropic channels as it is (anthropicOptionsOf); `reasoning` is
  // what the other providers read.
  if (request.thinking != null) chat.reasoning = reasoningFor(request.thinking, request.output_config?.effort);
  const format = request.output_config?.format ?? request.output_format;
  if (format != null) {
    chat.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: format.schema, strict: true },
    };
  }
  if (request.models != null) chat.models = request.models;
  if (request.provider != null) chat.provider = request.provider;
  return chat;
}

/**
 * What only an Anthropic channel can take, kept out of the common request: OpenAI's API refuses top-level fields it
 * does not know, and a field such as `thinking` means something else to other providers (GLM's switch, for one).
 */
export function anthropicOptionsOf(
  request: AnthropicMessagesRequest,
  betaHeader: string | undefined,
): AnthropicOptions {
  const options: AnthropicOptions = { betas: anthropicBetasFrom(betaHeader) };
  if (request.thinking != null) options.thinking = request.thinking;
  if (request.cache_control != null) options.cacheControl = request.cache_control;
  if (request.service_tier != null) options.serviceTier = request.service_tier;
  return options;
}

/**
 * The `anthropic-beta` features a client may turn on through the gateway. An allowlist, not a denylist: a beta can
 * switch on what the gateway cannot meter or does not carry (server-side tools such as web search or code execution,
 * the Files API, MCP connectors, containers), which would be billed to the channel's account and never to the
 * client's balance. These ones only change how the model answers what the gateway already carries and meters.
 */
export const ANTHROPIC_BETA_ALLOWLIST: ReadonlySet<string> = new Set([
  // Prompt caching (generally available since; older clients still send it) and its 1-hour cache lifetime.
  "prompt-caching-2024-07-31",
  "extended-cache-ttl-2025-04-11",
  // Thinking between tool calls.
  "interleaved-thinking-2025-05-14",
  // The 1M-token context window (billed at long-context rates by the usage Anthropic reports).
  "context-1m-2025-08-07",
  // Tool inputs streamed without buffering.
  "fine-grained-tool-streaming-2025-05-14",
  // Up to 128k output tokens (Claude 3.7 Sonnet).
  "output-128k-2025-02-19",
  // Fewer tokens spent on tool definitions and calls.
  "token-efficient-tools-2025-02-19",
  // Structured outputs (`output_format`, strict tools) before they became generally available.
  "structured-outputs-2025-11-13",
]);

/** The client's `anthropic-beta` header (comma-separated names) reduced to the allowlisted betas, each once. */
export function anthropicBetasFrom(header: string | undefined): string[] {
  if (header === undefined) return [];
  const betas = new Set<string>();
  for (const name of header.split(",")) {
    const beta = name.trim().toLowerCase();
    if (ANTHROPIC_BETA_ALLOWLIST.has(beta)) betas.add(beta);
  }
  return [...betas];
}
