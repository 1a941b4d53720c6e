/*
 * Folds OpenAI chat chunks back into one message, the way OpenAI's SDKs and OpenRouter's clients do: text and
 * reasoning concatenated, tool calls by `tool_calls[].index` (id and name from the first delta that has them,
 * arguments concatenated), `reasoning_details` by their `index` (text concatenated, signature kept).
 */

type Body = Record<string, unknown>;

export interface AccumulatedToolCall {
  id: string | undefined;
  name: string | undefined;
  arguments: string;
  /** How many deltas named the call: OpenAI clients expect exactly one (the first). */
  namedTimes: number;
}

export interface Accumulated {
  role: string | undefined;
  content: string;
  reasoning: string;
  reasoningDetails: Body[];
  toolCalls: AccumulatedToolCall[];
  finishReasons: (string | null)[];
  nativeFinishReason: unknown;
  usage: Body | null;
}

export function accumulateChunks(chunks: readonly Body[]): Accumulated {
  const result: Accumulated = {
    role: undefined,
    content: "",
    reasoning: "",
    reasoningDetails: [],
    toolCalls: [],
    finishReasons: [],
    nativeFinishReason: undefined,
    usage: null,
  };
  const details = new Map<unknown, Body>();
  for (const chunk of chunks) {
    if (chunk.usage !== undefined && chunk.usage !== null) result.usage = chunk.usage as Body;
    for (const choice of chunk.choices as Body[]) {
      const delta = (choice.delta ?? {}) as Body;
      if (typeof delta.role === "string") result.role ??= delta.role;
      if (typeof delta.content === "string") result.content += delta.content;
      if (typeof delta.reasoning === "string") result.reasoning += delta.reasoning;
      for (const detail of (delta.reasoning_details as Body[] | undefined) ?? []) {
        const known = details.get(detail.index);
        if (known === undefined) {
          const copy = { ...detail };
          details.set(detail.index, copy);
          result.reasoningDetails.push(copy);
          continue;
        }
        if (typeof detail.text === "string") known.text = `${(known.text as string | undefined) ?? ""}${detail.text}`;
        if (typeof detail.signature === "string") known.signature = detail.signature;
        if (typeof detail.data === "string") known.data = detail.data;
      }
      for (const call of (delta.tool_calls as Body[] | undefined) ?? []) {
        const index = call.index as number;
        const fn = (call.function ?? {}) as Body;
        const known = (result.toolCalls[index] ??= { id: undefined, name: undefined, arguments: "", namedTimes: 0 });
        if (typeof call.id === "string") known.id ??= call.id;
        if (typeof fn.name === "string") {
          known.name ??= fn.name;
          known.namedTimes += 1;
        }
        if (typeof fn.arguments === "string") known.arguments += fn.arguments;
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        result.finishReasons.push(choice.finish_reason as string);
        result.nativeFinishReason = choice.native_finish_reason;
      }
    }
  }
  return result;
}
