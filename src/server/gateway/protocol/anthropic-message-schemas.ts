import { z } from "zod";

/*
 * The answers of the Anthropic door, as Anthropic documents them, for the OpenAPI document (and the tests that hold
 * the door to it). Loose where Anthropic adds fields over time.
 */

/** Anthropic's stop reasons. */
export const ANTHROPIC_STOP_REASONS = [
  "end_turn",
  "max_tokens",
  "stop_sequence",
  "tool_use",
  "pause_turn",
  "refusal",
  "model_context_window_exceeded",
] as const;

const usage = z.looseObject({
  input_tokens: z.number().int().describe("Prompt tokens not read from or written to the cache"),
  output_tokens: z.number().int(),
  cache_creation_input_tokens: z.number().int().nullish(),
  cache_read_input_tokens: z.number().int().nullish(),
  cost: z.number().optional().describe("What the call cost, in US dollars (as OpenRouter reports it)"),
});

const contentBlock = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text"), text: z.string() }),
  z.looseObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() }),
  z.looseObject({ type: z.literal("redacted_thinking"), data: z.string() }),
  z.looseObject({
    type: z.literal("tool_use"),
    id: z.string(),
    name: z.string(),
    input: z.record(z.string(), z.unknown()),
  }),
]);

export const anthropicMessageSchema = z
  .looseObject({
    id: z.string().describe("The generation id (GET /v1/generation)"),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string(),
    content: z.array(contentBlock),
    stop_reason: z.enum(ANTHROPIC_STOP_REASONS),
    stop_sequence: z.string().nullable(),
    usage,
  })
  .meta({ id: "AnthropicMessage" });

export const anthropicErrorSchema = z
  .object({
    type: z.literal("error"),
    error: z.object({
      type: z
        .string()
        .describe(
          "invalid_request_error, authentication_error, billing_error, permission_error, not_found_error, " +
            "request_too_large, rate_limit_error, api_error, overloaded_error or timeout_error",
        ),
      message: z.string(),
    }),
  })
  .meta({ id: "AnthropicError" });

export const inputTokenCountSchema = z.object({ input_tokens: z.number().int() }).meta({ id: "InputTokenCount" });
