import { z } from "zod";

/*
 * The `encrypted_content` of the reasoning items the Responses door answers with. OpenAI fills that field with
 * reasoning only it can read, which a stateless client sends back on the next turn; the gateway needs the same for
 * what its providers ask to get back: Anthropic its signed thinking and redacted thinking, unchanged, Gemini its
 * thought signatures, each tied to the tool call it belongs to. The token carries those as the gateway's common
 * request holds them (OpenRouter's `reasoning_details` entries), so the next turn's assistant message gets them back
 * exactly and each adapter picks out its own.
 *
 * It is not encrypted, only encoded (base64url of a small JSON): its thinking text is the summary the client was
 * shown, and its signatures are the providers' own, which they verify. A token the gateway did not make (OpenAI's
 * own, a truncated one) does not decode, and the door refuses it rather than send a provider reasoning it cannot
 * check.
 */

const TOKEN_VERSION = 1;

const carriedText = z.object({
  type: z.literal("reasoning.text"),
  text: z.string(),
  signature: z.string().optional(),
  format: z.string().optional(),
});

const carriedEncrypted = z.object({
  type: z.literal("reasoning.encrypted"),
  data: z.string(),
  format: z.string().optional(),
  /** The tool call a Gemini thought signature belongs to. */
  id: z.string().optional(),
});

const carriedReasoning = z.discriminatedUnion("type", [carriedText, carriedEncrypted]);

const tokenSchema = z.object({ v: z.literal(TOKEN_VERSION), details: z.array(carriedReasoning).min(1) });

/** One `reasoning_details` entry as a token carries it (its position is the order of the list). */
export type CarriedReasoning = z.infer<typeof carriedReasoning>;

export function encodeReasoningToken(details: readonly CarriedReasoning[]): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, details }), "utf8").toString("base64url");
}

/** The entries a token carries, or null when it is not one this gateway made. */
export function decodeReasoningToken(token: string): CarriedReasoning[] | null {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const parsed = tokenSchema.safeParse(json);
  return parsed.success ? parsed.data.details : null;
}
