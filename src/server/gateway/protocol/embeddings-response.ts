import { z } from "zod";

/** The answer of POST /v1/embeddings, in OpenAI's shape plus `usage.cost`; also its OpenAPI component. */
export const embeddingListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        object: z.literal("embedding"),
        index: z.number().int().describe("The input's position in the request"),
        embedding: z
          .union([z.array(z.number()), z.string()])
          .describe("Numbers, or with `encoding_format: base64` little-endian float32 encoded as base64"),
      }),
    ),
    model: z.string().describe("The catalog model that answered"),
    usage: z.object({
      prompt_tokens: z.number().int(),
      total_tokens: z.number().int(),
      cost: z.number().describe("What this call cost, in US dollars; exactly what was debited"),
    }),
  })
  .meta({ id: "EmbeddingList" });

export type EmbeddingList = z.infer<typeof embeddingListSchema>;
