import { encodeReasoningToken, type CarriedReasoning } from "../protocol/responses-reasoning-token";
import type {
  FunctionCallOutputItem,
  MessageOutputItem,
  ReasoningOutputItem,
  ResponseBody,
  ResponseOutputItem,
} from "../protocol/responses-schemas";
import type { AnswerPart } from "./answer-parts";

/*
 * A Response's output items built from the parts of an answer, with the stream events that build them. One builder
 * serves the stream (every event sent) and the whole answer (events dropped, the items kept), so both give the same
 * output for the same answer.
 *
 * Items follow the answer: a `reasoning` item for each run of reasoning (a summary part per thinking block; the
 * signed or encrypted forms in `encrypted_content`), a `message` item for each run of text and refusal, a
 * `function_call` item per tool call. One item is written at a time, except function calls: those of one turn stay
 * open together until something else begins (or the answer ends), so that arguments an upstream interleaves between
 * calls still reach their own call.
 */

/** One event type per union member (distributed), as OpenAI's SDK declares them. */
type ItemEvent<Type extends string, Fields> = Type extends string
  ? { type: Type; item_id: string; output_index: number } & Fields
  : never;
type LifecycleEvent<Type extends string> = Type extends string ? { type: Type; response: ResponseBody } : never;
type OutputItemEvent<Type extends string> = Type extends string
  ? { type: Type; output_index: number; item: ResponseOutputItem }
  : never;
type OutputContent = MessageOutputItem["content"][number];
type SummaryPart = ReasoningOutputItem["summary"][number];

/** The events of OpenAI's Responses stream that the gateway sends, as OpenAI's SDK types them (less the number). */
export type ResponsesEvent =
  | LifecycleEvent<
      "response.created" | "response.in_progress" | "response.completed" | "response.incomplete" | "response.failed"
    >
  | OutputItemEvent<"response.output_item.added" | "response.output_item.done">
  | ItemEvent<
      "response.content_part.added" | "response.content_part.done",
      { content_index: number; part: OutputContent }
    >
  | ItemEvent<"response.output_text.delta", { content_index: number; delta: string; logprobs: [] }>
  | ItemEvent<"response.output_text.done", { content_index: number; text: string; logprobs: [] }>
  | ItemEvent<"response.refusal.delta", { content_index: number; delta: string }>
  | ItemEvent<"response.refusal.done", { content_index: number; refusal: string }>
  | ItemEvent<"response.function_call_arguments.delta", { delta: string }>
  | ItemEvent<"response.function_call_arguments.done", { arguments: string }>
  | ItemEvent<
      "response.reasoning_summary_part.added" | "response.reasoning_summary_part.done",
      { summary_index: number; part: SummaryPart }
    >
  | ItemEvent<"response.reasoning_summary_text.delta", { summary_index: number; delta: string }>
  | ItemEvent<"response.reasoning_summary_text.done", { summary_index: number; text: string }>;

/** An event as sent: numbered in the order of the stream, from 0. */
export type ResponsesStreamEvent = ResponsesEvent & { sequence_number: number };

export type ItemStatus = "completed" | "incomplete";

interface ReasoningState {
  kind: "reasoning";
  outputIndex: number;
  item: ReasoningOutputItem;
  carried: CarriedReasoning[];
  /** The thinking block being written (not yet signed) and its summary part. */
  writing: { entry: Extract<CarriedReasoning, { type: "reasoning.text" }>; summaryIndex: number | null } | null;
}

interface MessageState {
  kind: "message";
  outputIndex: number;
  item: MessageOutputItem;
  /** The content part being written. */
  part: { index: number; content: OutputContent } | null;
}

interface CallState {
  outputIndex: number;
  item: FunctionCallOutputItem;
}

export interface OutputBuilder {
  /** The output so far, in order; items still open as they stand. */
  readonly items: ResponseOutputItem[];
  /** The answer's finish reason (OpenAI's vocabulary) once it came. */
  readonly finishReason: string | null;
  add(part: AnswerPart): void;
  /** Closes every open item with `status` (incomplete when the answer was cut off). */
  finish(status: ItemStatus): void;
  /** The answer will not go on: open items are left as they are, marked incomplete. */
  abandon(): void;
}

/**
 * A builder for the output of the response `responseId` (`resp_…`), giving each event to `emit` as it happens.
 * Item ids are the response's with the item's position: unique in the response, and the same streamed or not.
 */
export function createOutputBuilder(responseId: string, emit: (event: ResponsesEvent) => void): OutputBuilder {
  const suffix = responseId.replace(/^resp_/, "");
  const items: ResponseOutputItem[] = [];
  let open: ReasoningState | MessageState | null = null;
  const calls = new Map<number, CallState>();
  let finishReason: string | null = null;

  const itemId = (prefix: string) => `${prefix}_${suffix}_${items.length}`;

  // Reasoning.
  const closeSummary = (state: ReasoningState) => {
    const writing = state.writing;
    state.writing = null;
    if (writing?.summaryIndex == null) return;
    const fields = { item_id: state.item.id, output_index: state.outputIndex, summary_index: writing.summaryIndex };
    const part = state.item.summary[writing.summaryIndex]!;
    emit({ type: "response.reasoning_summary_text.done", ...fields, text: part.text });
    emit({ type: "response.reasoning_summary_part.done", ...fields, part });
  };
  const closeReasoning = (state: ReasoningState) => {
    closeSummary(state);
    // Only what a provider verifies is worth carrying back: thinking nobody signed would be refused or ignored.
    const worthCarrying = state.carried.some((entry) => entry.type === "reasoning.encrypted" || entry.signature);
    state.item.encrypted_content = worthCarrying ? encodeReasoningToken(state.carried) : null;
    emit({ type: "response.output_item.done", output_index: state.outputIndex, item: state.item });
  };
  const openReasoning = (): ReasoningState => {
    if (open?.kind === "reasoning") return open;
    closeOpen("completed");
    closeCalls("completed");
    const item: ReasoningOutputItem = { id: itemId("rs"), type: "reasoning", summary: [], encrypted_content: null };
    const state: ReasoningState = { kind: "reasoning", outputIndex: items.length, item, carried: [], writing: null };
    items.push(item);
    open = state;
    emit({ type: "response.output_item.added", output_index: state.outputIndex, item });
    return state;
  };
  /** The thinking block being written, or a new one (with its summary part once it has text). */
  const writingBlock = (state: ReasoningState) => {
    if (state.writing !== null) return state.writing;
    const entry = { type: "reasoning.text" as const, text: "" };
    state.carried.push(entry);
    state.writing = { entry, summaryIndex: null };
    return state.writing;
  };
  const addReasoningText = (text: string) => {
    const state = openReasoning();
    const writing = writingBlock(state);
    const fields = { item_id: state.item.id, output_index: state.outputIndex };
    if (writing.summaryIndex === null) {
      writing.summaryIndex = state.item.summary.length;
      const part: SummaryPart = { type: "summary_text", text: "" };
      state.item.summary.push(part);
      emit({
        type: "response.reasoning_summary_part.added",
        ...fields,
        summary_index: writing.summaryIndex,
        part: { ...part },
      });
    }
    writing.entry.text += text;
    state.item.summary[writing.summaryIndex]!.text += text;
    emit({
      type: "response.reasoning_summary_text.delta",
      ...fields,
      summary_index: writing.summaryIndex,
      delta: text,
    });
  };
  /** A signature ends its thinking block: the next thinking is another block, as the provider signed them. */
  const addSignature = (signature: string, format: string | null) => {
    const state = openReasoning();
    const { entry } = writingBlock(state);
    entry.signature = signature;
    if (format !== null) entry.format = format;
    closeSummary(state);
  };
  const addEncrypted = (data: string, format: string | null, id: string | null) => {
    const state = openReasoning();
    closeSummary(state);
    state.carried.push({
      type: "reasoning.encrypted",
      data,
      ...(format !== null ? { format } : {}),
      ...(id !== null ? { id } : {}),
    });
  };

  // Messages.
  const closeContentPart = (state: MessageState) => {
    const current = state.part;
    state.part = null;
    if (current === null) return;
    const fields = { item_id: state.item.id, output_index: state.outputIndex, content_index: current.index };
    const { content } = current;
    if (content.type === "output_text") {
      emit({ type: "response.output_text.done", ...fields, text: content.text, logprobs: [] });
    } else {
      emit({ type: "response.refusal.done", ...fields, refusal: content.refusal });
    }
    emit({ type: "response.content_part.done", ...fields, part: content });
  };
  const closeMessage = (state: MessageState, status: ItemStatus) => {
    closeContentPart(state);
    state.item.status = status;
    emit({ type: "response.output_item.done", output_index: state.outputIndex, item: state.item });
  };
  const openMessage = (): MessageState => {
    if (open?.kind === "message") return open;
    closeOpen("completed");
    closeCalls("completed");
    const item: MessageOutputItem = {
      id: itemId("msg"),
      type: "message",
      role: "assistant",
      status: "in_progress",
      content: [],
    };
    const state: MessageState = { kind: "message", outputIndex: items.length, item, part: null };
    items.push(item);
    open = state;
    emit({ type: "response.output_item.added", output_index: state.outputIndex, item });
    return state;
  };
  const addMessageText = (kind: OutputContent["type"], text: string) => {
    const state = openMessage();
    if (state.part?.content.type !== kind) {
      closeContentPart(state);
      const content: OutputContent =
        kind === "output_text" ? { type: "output_text", text: "", annotations: [] } : { type: "refusal", refusal: "" };
      state.part = { index: state.item.content.length, content };
      state.item.content.push(content);
      emit({
        type: "response.content_part.added",
        item_id: state.item.id,
        output_index: state.outputIndex,
        content_index: state.part.index,
        part: { ...content },
      });
    }
    const fields = { item_id: state.item.id, output_index: state.outputIndex, content_index: state.part.index };
    const { content } = state.part;
    if (content.type === "output_text") {
      content.text += text;
      emit({ type: "response.output_text.delta", ...fields, delta: text, logprobs: [] });
    } else {
      content.refusal += text;
      emit({ type: "response.refusal.delta", ...fields, delta: text });
    }
  };

  // Function calls.
  const closeCall = (call: CallState, status: ItemStatus) => {
    const { item } = call;
    emit({
      type: "response.function_call_arguments.done",
      item_id: item.id,
      output_index: call.outputIndex,
      arguments: item.arguments,
    });
    item.status = status;
    emit({ type: "response.output_item.done", output_index: call.outputIndex, item });
  };
  function closeCalls(status: ItemStatus): void {
    const ending = [...calls.values()].sort((a, b) => a.outputIndex - b.outputIndex);
    calls.clear();
    for (const call of ending) closeCall(call, status);
  }
  const startCall = (index: number, callId: string, name: string) => {
    closeOpen("completed");
    const earlier = calls.get(index);
    if (earlier !== undefined) {
      // A second start for the same index is another call: the first one is whole.
      calls.delete(index);
      closeCall(earlier, "completed");
    }
    const item: FunctionCallOutputItem = {
      id: itemId("fc"),
      type: "function_call",
      call_id: callId,
      name,
      arguments: "",
      status: "in_progress",
    };
    calls.set(index, { outputIndex: items.length, item });
    items.push(item);
    emit({ type: "response.output_item.added", output_index: items.length - 1, item });
  };
  const addArguments = (index: number, text: string) => {
    const call = calls.get(index);
    // Arguments of a call that never started (or already ended) have no item to go to.
    if (call === undefined) return;
    call.item.arguments += text;
    emit({
      type: "response.function_call_arguments.delta",
      item_id: call.item.id,
      output_index: call.outputIndex,
      delta: text,
    });
  };

  function closeOpen(status: ItemStatus): void {
    const state = open;
    open = null;
    if (state?.kind === "reasoning") closeReasoning(state);
    else if (state?.kind === "message") closeMessage(state, status);
  }

  return {
    items,
    get finishReason() {
      return finishReason;
    },
    add(part) {
      switch (part.type) {
        case "reasoning":
          addReasoningText(part.text);
          break;
        case "reasoning-signature":
          addSignature(part.signature, part.format);
          break;
        case "reasoning-encrypted":
          addEncrypted(part.data, part.format, part.id);
          break;
        case "text":
          addMessageText("output_text", part.text);
          break;
        case "refusal":
          addMessageText("refusal", part.text);
          break;
        case "tool-call-start":
          startCall(part.index, part.id, part.name);
          break;
        case "tool-call-arguments":
          addArguments(part.index, part.arguments);
          break;
        case "finish":
          finishReason ??= part.reason;
          break;
      }
    },
    finish(status) {
      closeOpen(status);
      closeCalls(status);
    },
    abandon() {
      if (open?.kind === "message") open.item.status = "incomplete";
      for (const call of calls.values()) call.item.status = "incomplete";
      open = null;
      calls.clear();
    },
  };
}
