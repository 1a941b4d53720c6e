import { z } from "zod";
import { imageUrlProblem } from "./image-url";

/*
 * The request body of POST /v1/chat/completions, as OpenAI documents it plus OpenRouter's extensions. Every field
 * the gateway understands is checked here, with OpenAI's ranges, so a bad value is refused with `param` naming it
 * instead of travelling to a provider. Objects are loose: a field we do not know yet passes through to the upstream
 * untouched, so new OpenAI parameters work before we learn about them.
 *
 * The same schemas generate the OpenAPI document at GET /v1/openapi.json, so the descriptions here are user-facing.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

const integer = () => z.number().int();

/** OpenAI's rule for function and schema names. */
const identifierName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, underscores or dashes");

const textPart = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
});

/**
 * An image by https URL or inline as a `data:image/<type>;base64,` URL with valid base64 (plain http is refused: it can
 * be tampered with). The rule and its reasons are in image-url.ts.
 */
const imageUrl = z.string().superRefine((url, context) => {
  const problem = imageUrlProblem(url);
  if (problem !== null) context.addIssue({ code: "custom", message: problem });
});

const imagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({
    url: imageUrl,
    detail: nullish(z.enum(["auto", "low", "high"])),
  }),
});

const audioPart = z.looseObject({
  type: z.literal("input_audio"),
  input_audio: z.looseObject({
    data: z.string().min(1),
    format: z.string().min(1).describe("Audio format, e.g. wav or mp3"),
  }),
});

const filePart = z.looseObject({
  type: z.literal("file"),
  file: z.looseObject({
    file_data: nullish(z.string()),
    file_id: nullish(z.string()),
    filename: nullish(z.string()),
  }),
});

const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

const userContentPart = z.discriminatedUnion("type", [textPart, imagePart, audioPart, filePart]);

const textContent = z.union([z.string(), z.array(textPart).min(1)]);

const toolCall = z.looseObject({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const systemMessage = z.looseObject({
  role: z.literal("system"),
  content: textContent,
  name: nullish(z.string()),
});

const developerMessage = z.looseObject({
  role: z.literal("developer"),
  content: textContent,
  name: nullish(z.string()),
});

const userMessage = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(userContentPart).min(1)]),
  name: nullish(z.string()),
});

const assistantMessage = z
  .looseObject({
    role: z.literal("assistant"),
    content: nullish(z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, refusalPart]))])),
    refusal: nullish(z.string()),
    name: nullish(z.string()),
    tool_calls: nullish(z.array(toolCall)),
    function_call: nullish(z.looseObject({ name: z.string(), arguments: z.string() })),
    reasoning: nullish(z.string()),
  })
  .refine(
    (message) =>
      (message.content !== undefined && message.content !== null) ||
      (message.tool_calls?.length ?? 0) > 0 ||
      message.function_call != null ||
      message.refusal != null,
    { message: "an assistant message needs `content`, `tool_calls` or `refusal`", path: ["content"] },
  );

const toolMessage = z.looseObject({
  role: z.literal("tool"),
  content: textContent,
  tool_call_id: z.string().min(1),
});

const functionMessage = z.looseObject({
  role: z.literal("function"),
  name: z.string().min(1),
  content: z.string().nullable(),
});

export const chatMessageSchema = z.discriminatedUnion("role", [
  systemMessage,
  developerMessage,
  userMessage,
  assistantMessage,
  toolMessage,
  functionMessage,
]);

const functionTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: identifierName,
    description: nullish(z.string()),
    parameters: nullish(z.record(z.string(), z.unknown()).describe("A JSON Schema object")),
    strict: nullish(z.boolean()),
  }),
});

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: identifierName,
      description: nullish(z.string()),
      schema: nullish(z.record(z.string(), z.unknown())),
      strict: nullish(z.boolean()),
    }),
  }),
]);

export const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"] as const;

const reasoning = z.looseObject({
  effort: nullish(z.enum(REASONING_EFFORTS)),
  max_tokens: nullish(integer().min(0)),
  exclude: nullish(z.boolean()),
  enabled: nullish(z.boolean()),
});

export const providerPreferences = z.looseObject({
  order: nullish(z.array(z.string())),
  only: nullish(z.array(z.string())),
  ignore: nullish(z.array(z.string())),
  allow_fallbacks: nullish(z.boolean()),
  require_parameters: nullish(z.boolean()),
  data_collection: nullish(z.enum(["allow", "deny"])),
  sort: nullish(z.enum(["price", "throughput", "latency"])),
  max_price: nullish(
    z.looseObject({
      prompt: nullish(z.number().nonnegative()).describe("Most USD per 1M prompt tokens"),
      completion: nullish(z.number().nonnegative()).describe("Most USD per 1M completion tokens"),
    }),
  ),
});

export type ProviderPreferences = z.infer<typeof providerPreferences>;

export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1).describe("Model id, e.g. `openai/gpt-4.1`; GET /v1/models lists them"),
  messages: z.array(chatMessageSchema).min(1),
  tools: nullish(z.array(functionTool)),
  tool_choice: nullish(toolChoice),
  parallel_tool_calls: nullish(z.boolean()),
  response_format: nullish(responseFormat),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  n: nullish(integer().min(1).max(128)),
  stop: nullish(z.union([z.string(), z.array(z.string()).max(4)])),
  max_tokens: nullish(integer().min(0)),
  max_completion_tokens: nullish(integer().min(0)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  logit_bias: nullish(z.record(z.string().regex(/^\d+$/, "keys must be token ids"), z.number().min(-100).max(100))),
  seed: nullish(integer()),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(integer().min(0).max(20)),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.looseObject({ include_usage: nullish(z.boolean()) })),
  user: nullish(z.string()),
  reasoning_effort: nullish(z.enum(REASONING_EFFORTS)),
  reasoning: nullish(reasoning),
  metadata: nullish(z.record(z.string().max(64), z.string().max(512))),
  service_tier: nullish(z.string()),
  prediction: nullish(z.looseObject({ type: z.literal("content"), content: textContent })),
  verbosity: nullish(z.enum(["low", "medium", "high"])),
  top_k: nullish(integer().min(0)),
  top_a: nullish(z.number().min(0).max(1)),
  min_p: nullish(z.number().min(0).max(1)),
  repetition_penalty: nullish(z.number().gt(0).max(2)),
  models: nullish(z.array(z.string().min(1)).min(1)).describe("Fallback models, tried in order"),
  route: nullish(z.literal("fallback")),
  provider: nullish(providerPreferences),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/**
 * Fields that steer the gateway (routing) rather than the model: never sent to a provider, which would refuse them.
 */
export const GATEWAY_ONLY_FIELDS = ["models", "route", "provider"] as const;
