import { describe, expect, it } from "vitest";
import type {
  ChatCompletionChoice,
  ChatCompletionChunkChoice,
} from "~/server/gateway/protocol/chat-completion-response";
import { createStreamToolCallIds, fillToolCallIds, toolCallIdMaker } from "~/server/gateway/protocol/tool-call-ids";

/** Ids from a counter, so that each assertion names the id it expects. */
function counter(): () => string {
  let next = 0;
  return () => `call_${(next += 1)}`;
}

function choice(index: number, toolCalls: object[]): ChatCompletionChunkChoice {
  return { index, delta: { tool_calls: toolCalls }, finish_reason: null };
}

describe("tool-call ids", () => {
  it("makes call_ ids of a generation id's letters and digits", () => {
    const make = toolCallIdMaker(() => "gen-mhx3k2p1-0a1b2c3d4e5f60718293");
    expect(make()).toBe("call_mhx3k2p10a1b2c3d4e5f60718293");
  });

  it("gives a whole answer's calls an id where it is empty or missing, and keeps the upstream's own", () => {
    const choices: ChatCompletionChoice[] = [
      {
        index: 0,
        finish_reason: "tool_calls",
        logprobs: null,
        message: {
          role: "assistant",
          tool_calls: [
            { id: "", type: "function", function: { name: "a", arguments: "{}" } },
            { type: "function", function: { name: "b", arguments: "{}" } },
            { id: null, type: "function", function: { name: "c", arguments: "{}" } },
            { id: "call_upstream", type: "function", function: { name: "d", arguments: "{}" } },
          ],
        },
      },
      { index: 1, finish_reason: "stop", logprobs: null, message: { role: "assistant", content: "hi" } },
    ];
    fillToolCallIds(choices, counter());
    expect((choices[0]!.message.tool_calls as { id: string }[]).map((call) => call.id)).toEqual([
      "call_1",
      "call_2",
      "call_3",
      "call_upstream",
    ]);
    expect(choices[1]!.message).not.toHaveProperty("tool_calls");
  });

  it("gives a streamed call its id on its first delta only, per choice and tool-call index", () => {
    const give = createStreamToolCallIds(counter());
    const deltas = [
      choice(0, [{ index: 0, id: "", type: "function", function: { name: "a", arguments: "" } }]),
      choice(0, [{ index: 0, function: { arguments: "{" } }]),
      choice(0, [{ index: 0, id: "", function: { arguments: "}" } }]),
      choice(1, [{ index: 0, id: "", type: "function", function: { name: "a", arguments: "{}" } }]),
      choice(0, [
        { index: 1, type: "function", function: { name: "b", arguments: "" } },
        { index: 2, id: "call_upstream", type: "function", function: { name: "c", arguments: "" } },
      ]),
      choice(0, [{ index: 1, id: null, function: { arguments: "{}" } }]),
    ];
    for (const delta of deltas) give(delta);
    expect(deltas.map((delta) => (delta.delta.tool_calls as Record<string, unknown>[]).map((call) => call.id))).toEqual(
      [["call_1"], [undefined], [undefined], ["call_2"], ["call_3", "call_upstream"], [undefined]],
    );
    // An emptied id is removed, not left as a key: OpenAI's argument deltas have none.
    expect((deltas[2]!.delta.tool_calls as object[])[0]).not.toHaveProperty("id");
  });

  it("starts a new call at each delta that names a function when the upstream leaves out index (Gemini)", () => {
    const give = createStreamToolCallIds(counter());
    const deltas = [
      choice(0, [{ id: "", type: "function", function: { name: "a", arguments: '{"x":' } }]),
      choice(0, [{ id: "", type: "", function: { arguments: "1}" } }]),
      choice(0, [{ id: "", type: "function", function: { name: "b", arguments: "{}" } }]),
    ];
    for (const delta of deltas) give(delta);
    expect(deltas.map((delta) => (delta.delta.tool_calls as Record<string, unknown>[])[0]!.id)).toEqual([
      "call_1",
      undefined,
      "call_2",
    ]);
  });

  it("leaves chunks without tool calls alone", () => {
    const give = createStreamToolCallIds(counter());
    const plain: ChatCompletionChunkChoice = { index: 0, delta: { content: "hi" }, finish_reason: null };
    give(plain);
    expect(plain.delta).toEqual({ content: "hi" });
  });
});
