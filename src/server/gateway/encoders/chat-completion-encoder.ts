import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion-response";
import { renderUsage, withoutUsage } from "../protocol/render-usage";
import { encodeSseData, SSE_DONE, SSE_HEADERS } from "../sse/encode-sse";
import { KEEP_ALIVE_COMMENT } from "../sse/keep-alive";
import type { AnswerIdentity, AnswerUsage, StreamFormat, WholeAnswerEncoder } from "./answer-encoder";

/** A chunk carrying the usage and cost billed. */
function priced(chunk: ChatCompletionChunk, { metered, upstream }: AnswerUsage): ChatCompletionChunk {
  return { ...chunk, usage: renderUsage(metered.usage, metered.costNano, upstream) };
}

function emptyChunk(identity: AnswerIdentity): ChatCompletionChunk {
  return {
    id: identity.id,
    object: "chat.completion.chunk",
    created: identity.created,
    model: identity.model,
    choices: [],
  };
}

/**
 * OpenAI's chat completion chunks as SSE, ending with `[DONE]`. Usage goes out once, on the last chunk (see
 * withoutUsage): the last finish chunk is held back until the answer ends so that it can carry the usage and cost,
 * or, with `stream_options.include_usage`, OpenAI's trailing usage-only chunk does (the upstream's own when it sent
 * one, so its extra fields survive). A stream that fails after it began ends with an error chunk, which OpenAI's
 * SDKs raise as an APIError.
 */
export function chatCompletionStream(options: { usageChunk: boolean }): StreamFormat {
  const { usageChunk } = options;
  return {
    headers: SSE_HEADERS,
    keepAlive: KEEP_ALIVE_COMMENT,
    encoder(identity) {
      let heldFinish: ChatCompletionChunk | null = null;
      let upstreamUsageChunk: ChatCompletionChunk | null = null;
      const finishing = (chunk: ChatCompletionChunk, usage: () => AnswerUsage) =>
        usageChunk ? withoutUsage(chunk, true) : priced(chunk, usage());
      const heldBack = (usage: () => AnswerUsage): string =>
        heldFinish === null ? "" : encodeSseData(finishing(heldFinish, usage));
      return {
        chunk(chunk, lastFinish) {
          if (chunk.choices.length === 0) {
            // OpenAI's trailing usage chunk, sent on at the end; a chunk with neither choices nor usage (Azure's
            // leading prompt_filter_results) is not passed on.
            if (chunk.usage != null) upstreamUsageChunk ??= chunk;
            return "";
          }
          if (!lastFinish) return encodeSseData(withoutUsage(chunk, usageChunk));
          // With n > 1 every choice finishes in its own chunk: an earlier one goes out, in order, without usage.
          const earlier = heldFinish;
          heldFinish = chunk;
          return earlier === null ? "" : encodeSseData(withoutUsage(earlier, usageChunk));
        },
        end(usage) {
          // The upstream reported usage on its finish chunk (DeepSeek, Groq), or none at all (the gateway counted
          // what was sent): the client still gets the trailing usage-only chunk it asked for.
          const trailing = usageChunk ? encodeSseData(priced(upstreamUsageChunk ?? emptyChunk(identity), usage())) : "";
          return heldBack(usage) + trailing + SSE_DONE;
        },
        fail(failure, usage) {
          const trailing =
            usageChunk && upstreamUsageChunk !== null ? encodeSseData(priced(upstreamUsageChunk, usage())) : "";
          const error = encodeSseData({
            ...emptyChunk(identity),
            choices: [{ index: 0, delta: {}, finish_reason: "error" }],
            error: { message: failure.message, type: failure.type, code: failure.code },
          });
          return heldBack(usage) + trailing + error + SSE_DONE;
        },
      };
    },
  };
}

/** A whole chat completion under the gateway's id and model, with the usage and cost billed. */
export const chatCompletionBody: WholeAnswerEncoder = (
  identity,
  completion: ChatCompletion,
  { metered, upstream },
) => ({
  ...completion,
  id: identity.id,
  created: completion.created || identity.created,
  model: identity.model,
  usage: renderUsage(metered.usage, metered.costNano, upstream),
});
