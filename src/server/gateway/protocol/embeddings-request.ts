import { z } from "zod";
import { providerPreferences } from "./chat-completion-request";

/*
 * The request body of POST /v1/embeddings, as OpenAI documents it, plus OpenRouter's `provider` preferences. As for
 * chat completions, the object is loose: a field the gateway does not know passes through to OpenAI-compatible
 * upstreams untouched. These schemas also generate the OpenAPI document, so the descriptions are user-facing.
 */

/** OpenAI's limit on the inputs of one request. */
export const MAX_EMBEDDING_INPUTS = 2048;

const text = z.string().min(1);
const tokenIds = z.array(z.number().int().min(0)).min(1);

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1).describe("An embedding model's id, e.g. `openai/text-embedding-3-small`"),
  input: z
    .union([
      text,
      z.array(text).min(1).max(MAX_EMBEDDING_INPUTS),
      tokenIds,
      z.array(tokenIds).min(1).max(MAX_EMBEDDING_INPUTS),
    ])
    .describe("A text, an array of texts, an array of token ids, or an array of such arrays; one vector each"),
  encoding_format: z
    .enum(["float", "base64"])
    .nullish()
    .describe("`float` (the default): arrays of numbers; `base64`: little-endian float32, base64-encoded"),
  dimensions: z.number().int().min(1).nullish().describe("Shorter vectors, for models that support it"),
  user: z.string().nullish(),
  provider: providerPreferences.nullish(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

/** One input to embed: a text, or token ids (which only some providers take). */
export type EmbeddingInput = string | number[];

/** The request's inputs as a list, one per vector to answer, in order. */
export function embeddingInputs(input: EmbeddingsRequest["input"]): EmbeddingInput[] {
  if (typeof input === "string") return [input];
  // A flat array of numbers is one input of token ids.
  if (typeof input[0] === "number") return [input as number[]];
  return input as EmbeddingInput[];
}

/** Whether any input is given as token ids rather than text. */
export function hasTokenInput(inputs: readonly EmbeddingInput[]): boolean {
  return inputs.some((input) => typeof input !== "string");
}
