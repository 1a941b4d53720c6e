import { GEMINI_PARAMETERS } from "../capabilities";
import type { ProviderAdapter } from "../types";
import { buildGeminiRequest } from "./build-request";
import { convertResponse } from "./convert-response";
import { parseUsage } from "./convert-usage";
import { geminiEmbeddings } from "./embeddings";
import { parseGeminiError } from "./parse-error";
import { createGeminiStreamTransformer } from "./stream-transformer";

/**
 * Google Gemini channels, natively: `{base}/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`
 * with the key in `x-goog-api-key`. Gemini cannot fetch arbitrary image URLs, so the gateway downloads them first
 * (under its SSRF rules) and this adapter sends them inline. Embeddings go to `:batchEmbedContents`.
 */
export function createGeminiAdapter(): ProviderAdapter {
  return {
    inlinesImageUrls: true,
    supportedParameters: GEMINI_PARAMETERS,
    buildRequest: buildGeminiRequest,
    parseResponse: convertResponse,
    createStreamTransformer: createGeminiStreamTransformer,
    parseUsage,
    parseError: parseGeminiError,
    embeddings: geminiEmbeddings,
  };
}
