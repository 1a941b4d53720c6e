import { z } from "zod";
import { embeddingInputs } from "../../protocol/embeddings-request";
import { versionedBaseUrl } from "../api-base-url";
import type { EmbeddingsCapability } from "../types";
import { GEMINI_API_PATH_VERSION, modelPath } from "./build-request";

/** Request fields the translation uses, or that never concern the model. */
const TRANSLATED = new Set(["model", "input", "encoding_format", "dimensions", "provider"]);

/** `{embeddings: [{values: number[]}]}`, one per request of the batch, in the batch's order. */
const answerSchema = z.looseObject({
  embeddings: z.array(z.looseObject({ values: z.array(z.number()) })),
});

/**
 * Gemini's `{base}/v1beta/models/{model}:batchEmbedContents`: one request per input, each `{model, content: {parts:
 * [{text}]}, outputDimensionality}`, with the key in `x-goog-api-key`. Gemini takes text only (no token ids), answers
 * numbers only (the gateway encodes base64 itself) and reports no token count (the gateway counts the input). Fields
 * it has no equivalent for (`user`, anything else) are left out and named as dropped.
 */
export const geminiEmbeddings: EmbeddingsCapability = {
  acceptsTokenArrays: false,
  supportedParameters: new Set(["dimensions", "encoding_format"]),
  buildRequest({ request, upstreamModel, channel }) {
    const model = modelPath(upstreamModel);
    const requests = embeddingInputs(request.input).map((input) => {
      // Routing never sends token ids here (acceptsTokenArrays is false); the check keeps the types honest.
      if (typeof input !== "string") throw new Error("Gemini embeds text only");
      return {
        model,
        content: { parts: [{ text: input }] },
        ...(request.dimensions == null ? {} : { outputDimensionality: request.dimensions }),
      };
    });
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (channel.apiKey !== null) headers["x-goog-api-key"] = channel.apiKey;
    const dropped = Object.entries(request)
      .filter(([field, value]) => !TRANSLATED.has(field) && value !== undefined && value !== null)
      .map(([field]) => field);
    return {
      url: `${versionedBaseUrl(channel.baseUrl, GEMINI_API_PATH_VERSION)}/${model}:batchEmbedContents`,
      method: "POST",
      headers,
      body: JSON.stringify({ requests }),
      ...(dropped.length > 0 ? { droppedParameters: dropped } : {}),
    };
  },
  parseResponse(body) {
    const answer = answerSchema.parse(body);
    return { vectors: answer.embeddings.map((embedding) => embedding.values), promptTokens: null };
  },
};
