import type {
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionUsage,
} from "../../protocol/chat-completion-response";
import type { SseEvent, StreamItem } from "../types";
import { convertParts, createToolCallIds, type PartsState } from "./convert-parts";
import { convertUsage } from "./convert-usage";
import { generateContentResponseSchema } from "./gemini-types";
import { mapFinishReason } from "./map-finish-reason";
import { parseStreamError } from "./parse-error";

interface ChoiceState extends PartsState {
  finished: boolean;
}

const MALFORMED = {
  status: 502,
  type: "upstream_error",
  code: "upstream_invalid_response",
  message: "The upstream provider sent an invalid stream event.",
  param: null,
} as const;

/**
 * streamGenerateContent?alt=sse → OpenAI chunks. Each Gemini event holds the next slice of every candidate plus
 * the running usage totals; there is no [DONE], the body just ends. So:
 *
 * - every chunk carries the running usage (the handler keeps it for billing and strips it before sending), so a
 *   stream that breaks off, or that the client abandons, is billed for what Gemini reported so far;
 * - when every candidate has finished, the finish chunk(s) are followed by a usage chunk (`choices: []`, the last
 *   `usageMetadata` seen), which ends the call for the handler. Should Gemini send more usage after that (it has not
 *   been seen to), another usage chunk follows, and the last one is billed.
 */
export function createGeminiStreamTransformer(): (event: SseEvent) => StreamItem[] {
  const ids = createToolCallIds();
  const choices = new Map<number, ChoiceState>();
  let responseId = "";
  let model = "";
  let usage: ChatCompletionUsage | null = null;
  let sentUsage: string | null = null;

  const chunk = (chunkChoices: ChatCompletionChunkChoice[]): StreamItem => ({
    type: "chunk",
    chunk: {
      id: responseId,
      object: "chat.completion.chunk",
      created: 0,
      model,
      choices: chunkChoices,
      ...(usage === null ? {} : { usage }),
    } satisfies ChatCompletionChunk,
  });

  const stateOf = (index: number): ChoiceState => {
    let state = choices.get(index);
    if (state === undefined) {
      state = { toolCalls: 0, reasoningDetails: 0, finished: false };
      choices.set(index, state);
    }
    return state;
  };

  return (event) => {
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      return [{ type: "error", error: MALFORMED }];
    }
    const parsed = generateContentResponseSchema.safeParse(json);
    if (!parsed.success) return [{ type: "error", error: MALFORMED }];
    const data = parsed.data;
    if (data.error != null) return [{ type: "error", error: parseStreamError(data.error) }];

    responseId ||= data.responseId ?? "";
    model ||= data.modelVersion ?? "";
    if (data.usageMetadata != null) usage = convertUsage(data.usageMetadata);

    const items: StreamItem[] = [];
    const candidates = data.candidates ?? [];
    const blockReason = data.promptFeedback?.blockReason;
    if (candidates.length === 0 && blockReason != null && !stateOf(0).finished) {
      stateOf(0).finished = true;
      items.push(chunk([{ index: 0, delta: {}, finish_reason: "content_filter", native_finish_reason: blockReason }]));
    }
    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position;
      const state = stateOf(index);
      const converted = convertParts(candidate.content?.parts ?? [], state, (upstreamId) =>
        ids(responseId, upstreamId),
      );
      const delta: Record<string, unknown> = {};
      if (converted.reasoning !== "") delta.reasoning = converted.reasoning;
      if (converted.content !== "") delta.content = converted.content;
      if (converted.toolCalls.length > 0) {
        const first = state.toolCalls - converted.toolCalls.length;
        delta.tool_calls = converted.toolCalls.map((toolCall, offset) => ({ index: first + offset, ...toolCall }));
      }
      if (converted.reasoningDetails.length > 0) delta.reasoning_details = converted.reasoningDetails;
      if (Object.keys(delta).length > 0) items.push(chunk([{ index, delta, finish_reason: null }]));
      if (candidate.finishReason != null && !state.finished) {
        state.finished = true;
        items.push(
          chunk([
            {
              index,
              delta: {},
              finish_reason: mapFinishReason(candidate.finishReason, state.toolCalls > 0),
              native_finish_reason: candidate.finishReason,
            },
          ]),
        );
      }
    });

    const allFinished = choices.size > 0 && [...choices.values()].every((state) => state.finished);
    if (allFinished && usage !== null) {
      const serialised = JSON.stringify(usage);
      if (serialised !== sentUsage) {
        sentUsage = serialised;
        items.push(chunk([]));
      }
    }
    return items;
  };
}
