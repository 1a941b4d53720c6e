import { z } from "zod";
import type { UpstreamVector } from "../../protocol/embedding-encoding";
import { GATEWAY_ONLY_FIELDS } from "../../protocol/chat-completion-request";
import type { EmbeddingsCapability } from "../types";
import { joinUrl, upstreamHeaders } from "./upstream-http";

/** What the embeddings request of an OpenAI-compatible upstream needs from its channel's preset. */
export interface OpenAICompatibleEmbeddingsOptions {
  /** Fields this upstream refuses: left out, and named in `x-tollgate-dropped-parameters`. */
  unsupportedParameters?: readonly string[];
  /** Keeps the routing fields (`provider`) in the body, for an upstream that is itself a router (OpenRouter). */
  forwardRoutingFields?: boolean;
  apiKeyHeader?: string;
}

const EMBEDDINGS_PATH = "/embeddings";

/** Optional fields that are left out rather than sent as null, which OpenAI refuses. */
const OPTIONAL_FIELDS = ["encoding_format", "dimensions", "user"] as const;

/**
 * The envelope of OpenAI's answer (`{object: "list", data: [{object: "embedding", index, embedding}], model, usage}`).
 * The vectors themselves are checked by hand below: an answer can hold millions of numbers, where a schema per number
 * would cost far more than the rest of the call.
 */
const answerSchema = z.looseObject({
  data: z.array(z.looseObject({ index: z.number().int().nonnegative().nullish(), embedding: z.unknown() })),
  usage: z.looseObject({ prompt_tokens: z.number().int().nonnegative().nullish() }).nullish(),
});

function isVector(value: unknown): value is UpstreamVector {
  if (typeof value === "string") return true;
  if (!Array.isArray(value)) return false;
  for (const item of value as unknown[]) if (typeof item !== "number" || !Number.isFinite(item)) return false;
  return true;
}

/** Vectors in input order: by their `index` (OpenAI's), or by position where an upstream gives none. */
function vectorsInOrder(data: z.infer<typeof answerSchema>["data"]): UpstreamVector[] {
  const vectors = new Array<UpstreamVector | undefined>(data.length);
  data.forEach((item, position) => {
    const index = item.index ?? position;
    if (index >= data.length || vectors[index] !== undefined) throw new Error("embedding indexes do not match");
    if (!isVector(item.embedding)) throw new Error("an embedding is neither numbers nor base64");
    vectors[index] = item.embedding;
  });
  return vectors as UpstreamVector[];
}

/**
 * `POST {base}/embeddings` as OpenAI documents it: the client's body (`input` as given, token ids included;
 * `dimensions`, `encoding_format`, `user` as asked, and any field the gateway does not know) with the endpoint's
 * upstream model. The answer's vectors are taken as the upstream sent them, numbers or base64.
 */
export function createOpenAICompatibleEmbeddings(options: OpenAICompatibleEmbeddingsOptions): EmbeddingsCapability {
  const unsupported = options.unsupportedParameters ?? [];
  return {
    acceptsTokenArrays: true,
    supportedParameters: new Set(OPTIONAL_FIELDS),
    buildRequest({ request, upstreamModel, channel }) {
      const body: Record<string, unknown> = { ...request, model: upstreamModel };
      if (options.forwardRoutingFields !== true) for (const field of GATEWAY_ONLY_FIELDS) delete body[field];
      for (const field of OPTIONAL_FIELDS) if (body[field] === null) delete body[field];
      const dropped: string[] = [];
      for (const field of unsupported) {
        if (body[field] === undefined) continue;
        if (body[field] !== null) dropped.push(field);
        delete body[field];
      }
      return {
        url: joinUrl(channel.baseUrl, EMBEDDINGS_PATH),
        method: "POST",
        headers: upstreamHeaders(channel, "application/json", options.apiKeyHeader),
        body: JSON.stringify(body),
        ...(dropped.length > 0 ? { droppedParameters: dropped } : {}),
      };
    },
    parseResponse(body) {
      const answer = answerSchema.parse(body);
      return { vectors: vectorsInOrder(answer.data), promptTokens: answer.usage?.prompt_tokens ?? null };
    },
  };
}
