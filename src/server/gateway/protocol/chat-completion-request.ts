import { z } from "zod";

const messageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
});

/**
 * The fields the gateway itself reads. Everything else a client sends passes through to the upstream untouched
 * (the schema is loose), so new OpenAI parameters work before we learn about them.
 */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string({ error: "`model` is required and must be a string" }).min(1, "`model` must not be empty"),
  messages: z
    .array(messageSchema, { error: "`messages` is required and must be an array of messages" })
    .min(1, "`messages` must contain at least one message"),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
