import type { ChatCompletionChoice, ChatCompletionChunkChoice } from "./chat-completion-response";

/*
 * Every tool call the gateway answers has a non-empty id, whichever adapter produced it: a client answers a call by
 * sending its id back as `tool_call_id`, which OpenAI's API (and this gateway's request schema) refuses empty, and
 * clients match results to calls by it. Gemini's OpenAI-compatible endpoint and some self-hosted servers answer
 * `id: ""` (or none); such a call gets a `call_…` id here.
 *
 * No map back to the upstream's own id is kept: only a call that had no id gets one, so there is no upstream value to
 * restore, and the client sends the synthesised id back in both places that name the call (the assistant message's
 * `tool_calls[].id` and the tool message's `tool_call_id`). That pairing is all such upstreams use: Gemini's
 * compatible endpoint finds a result's function name by matching `tool_call_id` to an earlier call's id (it answers
 * "function_response.name: Name cannot be empty" when they differ, pydantic/pydantic-ai#1879), and the native Gemini
 * and Anthropic adapters build the upstream's call/result pairing from the same two fields.
 */

/** A tool-call id maker for one answer: `call_` and the letters and digits of a new generation id (unique, random). */
export function toolCallIdMaker(newGenerationId: () => string): () => string {
  return () =>
    `call_${newGenerationId()
      .replace(/^gen-/, "")
      .replace(/[^A-Za-z0-9]/g, "")}`;
}

function hasId(call: Record<string, unknown>): boolean {
  return typeof call.id === "string" && call.id !== "";
}

/** Gives every tool call of a whole (non-streamed) answer's choices an id where the upstream gave none. */
export function fillToolCallIds(choices: readonly ChatCompletionChoice[], newId: () => string): void {
  for (const { message } of choices) {
    const calls = message.tool_calls;
    if (!Array.isArray(calls)) continue;
    for (const call of calls as unknown[]) {
      if (typeof call === "object" && call !== null && !hasId(call as Record<string, unknown>)) {
        (call as Record<string, unknown>).id = newId();
      }
    }
  }
}

/**
 * The same for a stream, as a stateful function applied to each chunk's choices in order. A call's id belongs on its
 * first delta (the one that names the function); OpenAI sends none on the argument deltas that follow, so an
 * upstream's empty id there is dropped rather than replaced, and a synthesised id is given once per call: per
 * (choice index, tool-call index), or, for an upstream that leaves out `index` (Gemini's compatible endpoint), per
 * delta that names a function (or the choice's first).
 */
export function createStreamToolCallIds(newId: () => string): (choice: ChatCompletionChunkChoice) => void {
  const started = new Set<string>();
  return (choice) => {
    const calls = choice.delta.tool_calls;
    if (!Array.isArray(calls)) return;
    for (const entry of calls as unknown[]) {
      if (typeof entry !== "object" || entry === null) continue;
      const call = entry as Record<string, unknown>;
      let first: boolean;
      if (typeof call.index === "number") {
        const key = `${choice.index}:${call.index}`;
        first = !started.has(key);
        started.add(key);
      } else {
        const name = (call.function as { name?: unknown } | null | undefined)?.name;
        const key = `${choice.index}:`;
        first = (typeof name === "string" && name !== "") || !started.has(key);
        started.add(key);
      }
      if (hasId(call)) continue;
      if (first) call.id = newId();
      else delete call.id;
    }
  };
}
