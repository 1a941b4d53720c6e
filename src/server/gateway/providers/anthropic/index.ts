import { ANTHROPIC_PARAMETERS } from "../capabilities";
import type { ProviderAdapter } from "../types";
import { parseAnthropicError } from "./errors";
import { buildAnthropicRequest } from "./request";
import { parseAnthropicResponse } from "./response";
import { createAnthropicStreamTransformer } from "./stream";
import { parseAnthropicAdapterUsage } from "./usage";

/**
 * Anthropic channels, through the native Messages API (`POST {base}/messages`, `anthropic-version` header): OpenAI
 * requests are converted on the way out, answers and streams back into OpenAI's shapes.
 */
export function createAnthropicAdapter(): ProviderAdapter {
  return {
    supportedParameters: ANTHROPIC_PARAMETERS,
    buildRequest: buildAnthropicRequest,
    parseResponse: parseAnthropicResponse,
    createStreamTransformer: createAnthropicStreamTransformer,
    parseUsage: parseAnthropicAdapterUsage,
    parseError: parseAnthropicError,
  };
}
