import type { TokenUsage } from "../billing/compute-cost";
import { nanoToUsdNumber } from "../billing/money";
import type { ResponseSettings } from "../protocol/responses-request";
import type { ResponseBody, ResponseOutputItem, ResponseUsage } from "../protocol/responses-schemas";
import type { UpstreamErrorInfo } from "../providers/types";
import { SSE_HEADERS } from "../sse/encode-sse";
import { KEEP_ALIVE_COMMENT } from "../sse/keep-alive";
import type { AnswerIdentity, StreamFormat, WholeAnswerEncoder } from "./answer-encoder";
import { answerParts, chunkChoiceParts } from "./answer-parts";
import { createOutputBuilder, type ResponsesEvent, type ResponsesStreamEvent } from "./responses-output";

/** A Response's id: the generation's, so that GET /v1/generation finds it (`resp_x` is generation `gen-x`). */
export function responseIdOf(generationId: string): string {
  return `resp_${generationId.replace(/^gen-/, "")}`;
}

/** OpenAI's Responses usage from the gateway's, plus `cost`: the USD billed, as OpenRouter adds it. */
export function responsesUsage(usage: TokenUsage, costNano: bigint): ResponseUsage {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens, cache_write_tokens: usage.cacheWriteTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.promptTokens + usage.completionTokens,
    cost: nanoToUsdNumber(costNano),
  };
}

/** Why an answer stopped short, in OpenAI's words; null when it ended as the model meant it to. */
function incompleteReason(finishReason: string | null): ResponseBody["incomplete_details"] {
  if (finishReason === "length") return { reason: "max_output_tokens" };
  if (finishReason === "content_filter") return { reason: "content_filter" };
  return null;
}

/** The codes OpenAI's SDK knows for a failed response. */
function failureCode(status: number): NonNullable<ResponseBody["error"]>["code"] {
  if (status === 429) return "rate_limit_exceeded";
  if (status === 400) return "invalid_prompt";
  return "server_error";
}

interface ResponseState {
  status: ResponseBody["status"];
  output: ResponseOutputItem[];
  usage?: ResponseUsage;
  error?: ResponseBody["error"];
  incomplete?: ResponseBody["incomplete_details"];
}

function responseObject(identity: AnswerIdentity, settings: ResponseSettings, state: ResponseState): ResponseBody {
  const { user, ...echoed } = settings;
  return {
    id: responseIdOf(identity.id),
    object: "response",
    created_at: identity.created,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incomplete ?? null,
    model: identity.model,
    output: state.output,
    previous_response_id: null,
    store: false,
    ...echoed,
    ...(state.usage === undefined ? {} : { usage: state.usage }),
    ...(user === undefined ? {} : { user }),
  };
}

function sse(event: ResponsesStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * OpenAI's streamed Responses events, each numbered (`sequence_number` from 0) and named (`event:`): the response
 * created and in progress, then each output item added, filled (text, refusal, reasoning summary and function
 * arguments deltas) and done, then `response.completed` (or `response.incomplete` when the answer was cut off) with
 * the whole response and its billed usage and cost. A failure after the stream began ends it with
 * `response.failed`, the output so far and what was billed. No `[DONE]` follows: OpenAI's Responses stream ends
 * with its last event. Only the first choice is relayed: a Response answers one.
 */
export function responsesStream(settings: ResponseSettings): StreamFormat {
  return {
    headers: SSE_HEADERS,
    keepAlive: KEEP_ALIVE_COMMENT,
    encoder(identity) {
      let out = "";
      let sequence = 0;
      const emit = (event: ResponsesEvent) => {
        out += sse({ ...event, sequence_number: sequence });
        sequence += 1;
      };
      const output = createOutputBuilder(responseIdOf(identity.id), emit);
      let started = false;
      const start = () => {
        if (started) return;
        started = true;
        const response = responseObject(identity, settings, { status: "in_progress", output: [] });
        emit({ type: "response.created", response });
        emit({ type: "response.in_progress", response });
      };
      const written = () => {
        const bytes = out;
        out = "";
        return bytes;
      };
      return {
        chunk(chunk) {
          start();
          for (const choice of chunk.choices) {
            if (choice.index !== 0) continue;
            for (const part of chunkChoiceParts(choice)) output.add(part);
          }
          return written();
        },
        end(usage) {
          start();
          const incomplete = incompleteReason(output.finishReason);
          output.finish(incomplete === null ? "completed" : "incomplete");
          const { metered } = usage();
          const response = responseObject(identity, settings, {
            status: incomplete === null ? "completed" : "incomplete",
            output: output.items,
            usage: responsesUsage(metered.usage, metered.costNano),
            incomplete,
          });
          emit({ type: incomplete === null ? "response.completed" : "response.incomplete", response });
          return written();
        },
        fail(failure: UpstreamErrorInfo, usage) {
          start();
          // What was produced stays as sent; the failed response carries it, and what it cost.
          output.abandon();
          const { metered } = usage();
          const response = responseObject(identity, settings, {
            status: "failed",
            output: output.items,
            usage: responsesUsage(metered.usage, metered.costNano),
            error: { code: failureCode(failure.status), message: failure.message },
          });
          emit({ type: "response.failed", response });
          return written();
        },
      };
    },
  };
}

/** A whole Response: the first choice's output items, built as the stream builds them, with the billed usage. */
export function responsesBody(settings: ResponseSettings): WholeAnswerEncoder {
  return (identity, completion, { metered }) => {
    const output = createOutputBuilder(responseIdOf(identity.id), () => {});
    const choice = completion.choices[0];
    if (choice !== undefined) {
      for (const part of answerParts(0, choice.message, choice.finish_reason, choice.native_finish_reason)) {
        output.add(part);
      }
    }
    const incomplete = incompleteReason(output.finishReason);
    output.finish(incomplete === null ? "completed" : "incomplete");
    return responseObject(identity, settings, {
      status: incomplete === null ? "completed" : "incomplete",
      output: output.items,
      usage: responsesUsage(metered.usage, metered.costNano),
      incomplete,
    });
  };
}
