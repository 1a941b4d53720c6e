import { z } from "zod";
import {
  providerPreferences,
  REASONING_EFFORTS,
  type ChatCompletionRequest,
  type ChatMessage,
} from "./chat-completion-request";
import { imageUrlProblem } from "./image-url";
import { decodeReasoningToken } from "./responses-reasoning-token";
import type { ResponseBody } from "./responses-schemas";

/*
 * The request body of POST /v1/responses: OpenAI's Responses API, stateless, as OpenRouter serves it (plus its
 * routing fields `models` and `provider`). The door parses it here and translates it into the gateway's common
 * request (OpenAI's chat request with OpenRouter's extensions), which every provider adapter speaks.
 *
 * Stateless: the gateway keeps no responses, conversations or files, so everything that names stored state
 * (`store: true`, `previous_response_id`, `conversation`, `item_reference`, `file_id`) is refused with a 400 that
 * says what to send instead. OpenAI's built-in tools run on OpenAI's side and are refused too: the gateway serves
 * every model through one API and can offer only function tools.
 *
 * Objects are loose, as in chat-completion-request.ts, but a field this file does not know is not carried into the
 * common request: it would be a Responses field sent to providers that speak chat completions.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const integer = () => z.number().int();

const jsonObject = z.record(z.string(), z.unknown());

/** OpenAI's rule for function and schema names. */
const identifierName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, underscores or dashes");

const httpsUrl = z.string().regex(/^https:\/\/\S+$/i, "must be an https URL");

/** A field whose only acceptable value is its absence (or its default): `message` says why and what to do instead. */
function refused<T extends z.ZodType>(schema: T, message: string) {
  return schema.superRefine((_value, context) => {
    context.addIssue({ code: "custom", message });
  });
}

const NO_STORED_STATE =
  "Tollgate keeps no conversation state: send the whole conversation in `input` each time (the output items of " +
  "earlier responses included), with `store` false or left out";

const NO_STORED_FILES =
  "Tollgate stores no files, so a `file_id` cannot be read: send the file inline (`file_data` as a base64 data URL, " +
  "or an image's `image_url`) or by its https URL";

const imageUrl = z.string().superRefine((url, context) => {
  const problem = imageUrlProblem(url);
  if (problem !== null) context.addIssue({ code: "custom", message: problem });
});

const fileId = nullish(refused(z.string(), NO_STORED_FILES));

const inputText = z.looseObject({ type: z.literal("input_text"), text: z.string() });

const inputImage = z
  .looseObject({
    type: z.literal("input_image"),
    image_url: nullish(imageUrl),
    file_id: fileId,
    detail: nullish(z.enum(["auto", "low", "high"])),
  })
  .refine((part) => part.image_url != null || part.file_id != null, {
    message: "an input_image needs an `image_url` (https, or a base64 data URL)",
    path: ["image_url"],
  });

const inputFile = z
  .looseObject({
    type: z.literal("input_file"),
    file_data: nullish(z.string().min(1).describe("The file as a base64 data URL, e.g. data:application/pdf;base64,…")),
    file_url: nullish(httpsUrl),
    file_id: fileId,
    filename: nullish(z.string()),
  })
  .refine((part) => part.file_data != null || part.file_url != null || part.file_id != null, {
    message: "an input_file needs `file_data` (a base64 data URL) or a `file_url`",
    path: ["file_data"],
  });

const outputText = z.looseObject({ type: z.literal("output_text"), text: z.string() });

const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

const contentPart = z.discriminatedUnion("type", [inputText, inputImage, inputFile, outputText, refusalPart]);

type ContentPart = z.infer<typeof contentPart>;

const TEXT_PART_TYPES: ReadonlySet<string> = new Set(["input_text", "output_text", "refusal"]);

/**
 * A message, with or without `type: "message"` (OpenAI's "easy input message"). Instructions and the assistant's own
 * turns hold text only, as chat messages of those roles do.
 */
const messageItem = z
  .looseObject({
    type: z.literal("message").optional(),
    role: z.enum(["user", "assistant", "system", "developer"]),
    content: z.union([z.string(), z.array(contentPart)]),
  })
  .superRefine((message, context) => {
    if (message.role === "user" || typeof message.content === "string") return;
    message.content.forEach((part, position) => {
      if (TEXT_PART_TYPES.has(part.type)) return;
      context.addIssue({
        code: "custom",
        message: `${message.role} messages hold text only (\`input_text\` or \`output_text\`); send images and files in a user message`,
        path: ["content", position, "type"],
      });
    });
  });

const functionCallItem = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string().min(1).describe("The id the function call was answered with; its output names it again"),
  name: z.string().min(1),
  arguments: z.string(),
});

const functionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.discriminatedUnion("type", [inputText, inputImage, inputFile]))]),
});

const reasoningItem = z.looseObject({
  type: z.literal("reasoning"),
  summary: nullish(z.array(z.looseObject({ type: z.literal("summary_text"), text: z.string() }))),
  encrypted_content: nullish(
    z
      .string()
      .superRefine((token, context) => {
        if (decodeReasoningToken(token) !== null) return;
        context.addIssue({
          code: "custom",
          message:
            "this reasoning was not returned by Tollgate, which can carry back only the reasoning it answered with; " +
            "leave out reasoning items from other services",
        });
      })
      .describe("Sent back as the gateway returned it: the provider's signed reasoning, for the next turn"),
  ),
});

/** Items that name state kept elsewhere, or the calls of OpenAI's built-in tools, which the gateway cannot offer. */
const STORED_ITEM_TYPES = ["item_reference"] as const;
const BUILT_IN_TOOL_ITEM_TYPES = [
  "web_search_call",
  "file_search_call",
  "computer_call",
  "computer_call_output",
  "code_interpreter_call",
  "image_generation_call",
  "local_shell_call",
  "local_shell_call_output",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output",
  "mcp_list_tools",
  "mcp_approval_request",
  "mcp_approval_response",
  "mcp_call",
  "custom_tool_call",
  "custom_tool_call_output",
] as const;

const refusedItem = z
  .looseObject({ type: z.enum([...STORED_ITEM_TYPES, ...BUILT_IN_TOOL_ITEM_TYPES]) })
  .superRefine((item, context) => {
    context.addIssue({
      code: "custom",
      path: ["type"],
      message:
        item.type === "item_reference"
          ? "an `item_reference` names an item stored by an earlier response; " + NO_STORED_STATE
          : `\`${item.type}\` belongs to one of OpenAI's built-in tools, which the gateway cannot offer across ` +
            "providers; only `function_call` and `function_call_output` items can be sent back",
    });
  });

const inputItem = z.discriminatedUnion("type", [
  messageItem,
  functionCallItem,
  functionCallOutputItem,
  reasoningItem,
  refusedItem,
]);

/**
 * Why a tool with another `type` is refused: OpenAI's built-in tools (web search, file search, computer use, code
 * interpreter, image generation, MCP, shell) run on OpenAI's side and are billed there, outside this gateway's
 * metering, and exist only for OpenAI's models. The gateway routes one request to several providers, so it takes
 * only the tools every provider can offer: functions.
 */
function builtInToolRefusal(type: string): string {
  return (
    `\`${type}\` is one of OpenAI's built-in tools, which the gateway cannot offer across providers; declare a ` +
    '`type: "function"` tool with a `name` and `parameters` instead'
  );
}

const functionTool = z.looseObject({
  // First in the shape, so that a built-in tool is refused for its type rather than for its missing name.
  type: z
    .string()
    .superRefine((type, context) => {
      if (type !== "function") context.addIssue({ code: "custom", message: builtInToolRefusal(type) });
    })
    .describe('Only "function": OpenAI\'s built-in tools are refused'),
  name: identifierName,
  description: nullish(z.string()),
  parameters: nullish(jsonObject.describe("A JSON Schema object")),
  strict: nullish(z.boolean()),
});

const toolChoice = z.union([
  z.enum(["auto", "none", "required"]),
  z.looseObject({ type: z.literal("function"), name: z.string().min(1) }),
]);

const textFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: identifierName,
    schema: jsonObject,
    description: nullish(z.string()),
    strict: nullish(z.boolean()),
  }),
]);

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1).describe("Model id, e.g. `openai/gpt-4.1`; GET /v1/models lists them"),
  input: z
    .union([z.string(), z.array(inputItem).min(1)])
    .describe("The whole conversation: Tollgate keeps none between calls"),
  instructions: nullish(z.string()),
  tools: nullish(z.array(functionTool)),
  tool_choice: nullish(toolChoice),
  parallel_tool_calls: nullish(z.boolean()),
  reasoning: nullish(
    z.looseObject({
      effort: nullish(z.enum(REASONING_EFFORTS)),
      summary: nullish(z.enum(["auto", "concise", "detailed"])),
    }),
  ),
  text: nullish(z.looseObject({ format: nullish(textFormat), verbosity: nullish(z.enum(["low", "medium", "high"])) })),
  max_output_tokens: nullish(integer().min(1)),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  user: nullish(z.string()),
  metadata: nullish(z.record(z.string().max(64), z.string().max(512))),
  stream: nullish(z.boolean()),
  // OpenAI's default is true, but its SDKs send `store` only when asked: absent means not stored, as here.
  store: nullish(z.boolean().refine((store) => !store, NO_STORED_STATE)).describe(
    "Only false (or absent): Tollgate keeps no responses",
  ),
  previous_response_id: nullish(refused(z.string(), NO_STORED_STATE)).describe(
    "Refused: Tollgate keeps no responses; send the whole conversation in `input`",
  ),
  conversation: nullish(refused(z.union([z.string(), z.looseObject({ id: z.string() })]), NO_STORED_STATE)).describe(
    "Refused: Tollgate keeps no conversations; send the whole conversation in `input`",
  ),
  background: nullish(
    z.boolean().refine((background) => !background, "Tollgate keeps no responses to poll: answer in the foreground"),
  ).describe("Only false (or absent)"),
  models: nullish(z.array(z.string().min(1)).min(1)).describe("Fallback models, tried in order"),
  provider: nullish(providerPreferences),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

type InputItem = z.infer<typeof inputItem>;
type UserMessage = Extract<ChatMessage, { role: "user" }>;
type UserPart = Exclude<UserMessage["content"], string>[number];
type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type AssistantPart = Exclude<NonNullable<AssistantMessage["content"]>, string>[number];
type ToolCall = NonNullable<AssistantMessage["tool_calls"]>[number];

/** One assistant turn as it is gathered from consecutive output items: reasoning, messages, function calls. */
interface AssistantTurn {
  parts: AssistantPart[];
  toolCalls: ToolCall[];
  /** OpenRouter's `reasoning_details`, decoded from the reasoning items' `encrypted_content`. */
  details: Record<string, unknown>[];
  thoughts: string[];
}

function userPart(part: ContentPart): UserPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: part.text };
    case "refusal":
      return { type: "text", text: part.refusal };
    case "input_image":
      // The schema let through only parts with an image_url (a file_id is refused).
      return {
        type: "image_url",
        image_url: { url: part.image_url ?? "", ...(part.detail != null ? { detail: part.detail } : {}) },
      };
    case "input_file":
      // A file by URL rides in `file_data`, OpenRouter's convention, which the adapters read back as a URL.
      return {
        type: "file",
        file: {
          file_data: part.file_data ?? part.file_url ?? "",
          ...(part.filename != null ? { filename: part.filename } : {}),
        },
      };
  }
}

/** A user, system or developer message (the schema keeps the last two to text). */
function inputMessage(item: Extract<InputItem, { role: string }>): ChatMessage {
  if (typeof item.content === "string") {
    return item.role === "user" ? { role: "user", content: item.content } : { role: item.role, content: item.content };
  }
  const parts = item.content.map(userPart);
  if (item.role === "user") return { role: "user", content: parts };
  const texts = parts.flatMap((part) => (part.type === "text" ? [part] : []));
  return { role: item.role, content: texts.length === 0 ? "" : texts };
}

function addAssistantContent(turn: AssistantTurn, content: string | readonly ContentPart[]): void {
  if (typeof content === "string") {
    turn.parts.push({ type: "text", text: content });
    return;
  }
  for (const part of content) {
    if (part.type === "refusal") turn.parts.push({ type: "refusal", refusal: part.refusal });
    else if (part.type === "input_text" || part.type === "output_text")
      turn.parts.push({ type: "text", text: part.text });
  }
}

/**
 * A reasoning item's carried reasoning into the turn's `reasoning_details`, numbered in the order of the turn (the
 * Anthropic adapter orders thinking blocks by it). A reasoning item without `encrypted_content` carries only its
 * summary, which no provider accepts back as reasoning: it is left out.
 */
function addReasoning(turn: AssistantTurn, item: Extract<InputItem, { type: "reasoning" }>): void {
  const carried = item.encrypted_content == null ? null : decodeReasoningToken(item.encrypted_content);
  for (const detail of carried ?? []) {
    turn.details.push({ ...detail, index: turn.details.length });
    if (detail.type === "reasoning.text" && detail.text !== "") turn.thoughts.push(detail.text);
  }
}

/** The turn as one assistant message; a turn of reasoning alone is no message (nothing to attach it to). */
function assistantMessage(turn: AssistantTurn): ChatMessage | null {
  if (turn.parts.length === 0 && turn.toolCalls.length === 0) return null;
  const only = turn.parts.length === 1 ? turn.parts[0] : undefined;
  const content = turn.parts.length === 0 ? null : only?.type === "text" ? only.text : turn.parts;
  const message: ChatMessage = { role: "assistant", content };
  if (turn.toolCalls.length > 0) message.tool_calls = turn.toolCalls;
  if (turn.thoughts.length > 0) message.reasoning = turn.thoughts.join("\n\n");
  if (turn.details.length > 0) message.reasoning_details = turn.details;
  return message;
}

/**
 * A function call's output as a tool message: its text (text parts joined by blank lines). A tool message cannot
 * hold images or files, so those are returned to go into a user message after the tool results.
 */
function toolMessage(item: Extract<InputItem, { type: "function_call_output" }>): {
  message: ChatMessage;
  files: UserPart[];
} {
  if (typeof item.output === "string") {
    return { message: { role: "tool", tool_call_id: item.call_id, content: item.output }, files: [] };
  }
  const texts: string[] = [];
  const files: UserPart[] = [];
  for (const part of item.output) {
    if (part.type === "input_text") texts.push(part.text);
    else files.push(userPart(part));
  }
  return { message: { role: "tool", tool_call_id: item.call_id, content: texts.join("\n\n") }, files };
}

/**
 * The input items as chat messages. Consecutive items of the assistant's own (reasoning, assistant messages,
 * function calls) make one assistant message, as chat completions want the calls of one turn together, followed by
 * their tool results; the reasoning carried back rides on that message for the providers that want it.
 */
function inputMessages(request: ResponsesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (request.instructions != null && request.instructions !== "") {
    messages.push({ role: "system", content: request.instructions });
  }
  if (typeof request.input === "string") {
    messages.push({ role: "user", content: request.input });
    return messages;
  }
  let turn: AssistantTurn | null = null;
  let toolFiles: UserPart[] = [];
  const endTurn = () => {
    const message = turn === null ? null : assistantMessage(turn);
    if (message !== null) messages.push(message);
    turn = null;
  };
  const endToolResults = () => {
    if (toolFiles.length > 0) messages.push({ role: "user", content: toolFiles });
    toolFiles = [];
  };
  const assistant = (): AssistantTurn => {
    endToolResults();
    return (turn ??= { parts: [], toolCalls: [], details: [], thoughts: [] });
  };
  for (const item of request.input) {
    switch (item.type) {
      case "function_call":
        assistant().toolCalls.push({
          id: item.call_id,
          type: "function",
          function: { name: item.name, arguments: item.arguments },
        });
        break;
      case "reasoning":
        addReasoning(assistant(), item);
        break;
      case "function_call_output": {
        endTurn();
        const { message, files } = toolMessage(item);
        messages.push(message);
        toolFiles.push(...files);
        break;
      }
      case undefined:
      case "message":
        if (item.role === "assistant") {
          addAssistantContent(assistant(), item.content);
        } else {
          endTurn();
          endToolResults();
          messages.push(inputMessage(item));
        }
        break;
      default:
        // Refused by the schema (stored items, built-in tools' calls).
        break;
    }
  }
  endTurn();
  endToolResults();
  return messages;
}

function toolChoiceOf(choice: NonNullable<ResponsesRequest["tool_choice"]>): ChatCompletionRequest["tool_choice"] {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

function responseFormatOf(
  format: NonNullable<NonNullable<ResponsesRequest["text"]>["format"]>,
): ChatCompletionRequest["response_format"] {
  if (format.type !== "json_schema") return { type: format.type };
  return {
    type: "json_schema",
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(format.description != null ? { description: format.description } : {}),
      ...(format.strict != null ? { strict: format.strict } : {}),
    },
  };
}

/**
 * The Responses request as the gateway's common request. Function tools keep `strict` only when the client set it:
 * OpenAI's Responses API makes them strict by default, but a schema written for another provider is often not one
 * strict mode accepts, and the gateway serves those too.
 *
 * Not carried: `reasoning.summary` (providers summarise or not on their own), `include` (encrypted reasoning is always
 * returned), `text.format` of type `text` (the default), and fields this schema does not name.
 */
export function toChatRequest(request: ResponsesRequest): ChatCompletionRequest {
  const chat: ChatCompletionRequest = { model: request.model, messages: inputMessages(request) };
  if (request.stream != null) chat.stream = request.stream;
  if (request.max_output_tokens != null) chat.max_tokens = request.max_output_tokens;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  if (request.user != null) chat.user = request.user;
  if (request.metadata != null) chat.metadata = request.metadata;
  if (request.tools != null) {
    chat.tools = request.tools.map((tool) => ({
      type: "function" as const,
      function: {
        name: tool.name,
        ...(tool.description != null ? { description: tool.description } : {}),
        ...(tool.parameters != null ? { parameters: tool.parameters } : {}),
        ...(tool.strict != null ? { strict: tool.strict } : {}),
      },
    }));
  }
  if (request.tool_choice != null) chat.tool_choice = toolChoiceOf(request.tool_choice);
  if (request.parallel_tool_calls != null) chat.parallel_tool_calls = request.parallel_tool_calls;
  if (request.reasoning?.effort != null) chat.reasoning = { effort: request.reasoning.effort };
  const format = request.text?.format;
  if (format != null && format.type !== "text") chat.response_format = responseFormatOf(format);
  if (request.text?.verbosity != null) chat.verbosity = request.text.verbosity;
  if (request.models != null) chat.models = request.models;
  if (request.provider != null) chat.provider = request.provider;
  return chat;
}

/** What a Response repeats of the request that asked for it, as OpenAI's does. */
export type ResponseSettings = Pick<
  ResponseBody,
  | "instructions"
  | "max_output_tokens"
  | "metadata"
  | "parallel_tool_calls"
  | "reasoning"
  | "temperature"
  | "text"
  | "tool_choice"
  | "tools"
  | "top_p"
  | "user"
>;

export function responseSettingsOf(request: ResponsesRequest): ResponseSettings {
  const format = request.text?.format;
  return {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    temperature: request.temperature ?? null,
    text: {
      format:
        format == null || format.type !== "json_schema"
          ? { type: format?.type ?? "text" }
          : {
              type: "json_schema",
              name: format.name,
              schema: format.schema,
              ...(format.description != null ? { description: format.description } : {}),
              strict: format.strict ?? null,
            },
      ...(request.text?.verbosity != null ? { verbosity: request.text.verbosity } : {}),
    },
    tool_choice:
      request.tool_choice == null
        ? "auto"
        : typeof request.tool_choice === "string"
          ? request.tool_choice
          : { type: "function", name: request.tool_choice.name },
    tools: (request.tools ?? []).map((tool) => ({
      type: "function" as const,
      name: tool.name,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? null,
    })),
    top_p: request.top_p ?? null,
    ...(request.user != null ? { user: request.user } : {}),
  };
}
