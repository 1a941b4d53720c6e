import { z } from "zod";
import { REASONING_EFFORTS } from "./chat-completion-request";

/*
 * The answers of the Responses door, as OpenAI documents its Response object: the encoder builds its bodies and
 * events typed by these, and the OpenAPI document (with the tests that hold the door to it) is generated from them.
 * Only what the gateway sends is described; clients written for OpenAI's API read it as OpenAI's.
 */

const integer = () => z.number().int();

const itemStatus = z.enum(["in_progress", "completed", "incomplete"]);

export const outputTextSchema = z.object({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.never()).describe("Always empty: the gateway adds no citations"),
});

export const outputRefusalSchema = z.object({ type: z.literal("refusal"), refusal: z.string() });

export const summaryTextSchema = z.object({ type: z.literal("summary_text"), text: z.string() });

const reasoningItem = z.object({
  id: z.string(),
  type: z.literal("reasoning"),
  summary: z.array(summaryTextSchema).describe("The reasoning the provider showed, one part per thinking block"),
  encrypted_content: z
    .string()
    .nullable()
    .describe(
      "The provider's signed or encrypted reasoning (Anthropic's thinking signatures, Gemini's thought signatures): " +
        "send the item back as it is on the next turn. Null when there is nothing a provider needs back.",
    ),
});

const messageItem = z.object({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  status: itemStatus,
  content: z.array(z.discriminatedUnion("type", [outputTextSchema, outputRefusalSchema])),
});

const functionCallItem = z.object({
  id: z.string(),
  type: z.literal("function_call"),
  call_id: z.string().describe("Name it again in the `function_call_output` that answers the call"),
  name: z.string(),
  arguments: z.string().describe("JSON text"),
  status: itemStatus,
});

export const responseOutputItemSchema = z.discriminatedUnion("type", [reasoningItem, messageItem, functionCallItem]);

export type ResponseOutputItem = z.infer<typeof responseOutputItemSchema>;
export type ReasoningOutputItem = z.infer<typeof reasoningItem>;
export type MessageOutputItem = z.infer<typeof messageItem>;
export type FunctionCallOutputItem = z.infer<typeof functionCallItem>;

export const responseUsageSchema = z.object({
  input_tokens: integer().describe("Prompt tokens, those read from or written to the cache included"),
  input_tokens_details: z.object({ cached_tokens: integer(), cache_write_tokens: integer() }),
  output_tokens: integer().describe("Output tokens, reasoning included"),
  output_tokens_details: z.object({ reasoning_tokens: integer() }),
  total_tokens: integer(),
  cost: z.number().describe("What this call cost, in US dollars; exactly what was debited"),
});

const textFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string(),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable(),
  }),
]);

export const responseSchema = z
  .object({
    id: z.string().describe("`resp_` and the generation id without its `gen-` (GET /v1/generation?id=gen-…)"),
    object: z.literal("response"),
    created_at: integer(),
    status: z.enum(["in_progress", "completed", "incomplete", "failed"]),
    error: z
      .object({ code: z.enum(["server_error", "rate_limit_exceeded", "invalid_prompt"]), message: z.string() })
      .nullable()
      .describe("Why a streamed response failed after it began"),
    incomplete_details: z.object({ reason: z.enum(["max_output_tokens", "content_filter"]) }).nullable(),
    instructions: z.string().nullable(),
    max_output_tokens: integer().nullable(),
    model: z.string(),
    output: z.array(responseOutputItemSchema),
    parallel_tool_calls: z.boolean(),
    previous_response_id: z.null().describe("Always null: the gateway keeps no responses"),
    reasoning: z.object({
      effort: z.enum(REASONING_EFFORTS).nullable(),
      summary: z.enum(["auto", "concise", "detailed"]).nullable(),
    }),
    store: z.literal(false),
    temperature: z.number().nullable(),
    text: z.object({ format: textFormat, verbosity: z.enum(["low", "medium", "high"]).optional() }),
    tool_choice: z.union([
      z.enum(["auto", "none", "required"]),
      z.object({ type: z.literal("function"), name: z.string() }),
    ]),
    tools: z.array(
      z.object({
        type: z.literal("function"),
        name: z.string(),
        description: z.string().nullable(),
        parameters: z.record(z.string(), z.unknown()).nullable(),
        strict: z.boolean().nullable(),
      }),
    ),
    top_p: z.number().nullable(),
    usage: responseUsageSchema.optional().describe("The billed usage and cost; absent while the response is running"),
    user: z.string().optional(),
    metadata: z.record(z.string(), z.string()),
  })
  .meta({ id: "Response" });

export type ResponseBody = z.infer<typeof responseSchema>;
export type ResponseUsage = z.infer<typeof responseUsageSchema>;
