import { countTokens } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { createTokenCountMemo, measureEmbeddingInput, measurePrompt } from "~/server/gateway/billing/estimate-tokens";
import type { ChatCompletionRequest } from "~/server/gateway/protocol/chat-completion-request";

/** A counter that records what it was asked to count. */
function countingCounter() {
  const counted: string[] = [];
  return {
    counted,
    count: (text: string) => {
      counted.push(text);
      return text.length;
    },
  };
}

describe("createTokenCountMemo", () => {
  it("counts each text once while it is remembered", () => {
    const { counted, count } = countingCounter();
    const memo = createTokenCountMemo(count, 100);
    expect([memo("system prompt"), memo("hello"), memo("system prompt"), memo("hello")]).toEqual([13, 5, 13, 5]);
    expect(counted).toEqual(["system prompt", "hello"]);
  });

  it("keeps what is still in use when its budget fills, forgets the rest, and never keeps an oversized text", () => {
    const { counted, count } = countingCounter();
    const memo = createTokenCountMemo(count, 10);
    memo("aaaa"); // newer: aaaa
    memo("bbbb"); // newer: aaaa bbbb
    memo("cccc"); // full: older = aaaa bbbb, newer = cccc
    memo("aaaa"); // still known (older), moved to newer
    memo("dddd"); // full: older = cccc aaaa, newer = dddd; bbbb forgotten
    memo("aaaa");
    memo("bbbb");
    memo("x".repeat(11));
    memo("x".repeat(11));
    expect(counted).toEqual(["aaaa", "bbbb", "cccc", "dddd", "bbbb", "x".repeat(11), "x".repeat(11)]);
  });
});

describe("measurePrompt", () => {
  it("gives the same count for a repeated conversation as for a new one", () => {
    const system = "You are a careful assistant. ".repeat(50);
    const request = (turn: string): ChatCompletionRequest => ({
      model: "openai/gpt-4.1",
      messages: [
        { role: "system", content: system },
        { role: "user", content: turn },
      ],
    });
    const expected = 3 + (3 + countTokens(system)) + (3 + countTokens("What is 2 + 2?"));
    expect(measurePrompt(request("What is 2 + 2?")).tokens).toBe(expected);
    // Counted from the memo the second time: the same answer.
    expect(measurePrompt(request("What is 2 + 2?")).tokens).toBe(expected);
  });
});

describe("measureEmbeddingInput", () => {
  it("counts each text with the tokenizer and token ids exactly, with no chat overhead", () => {
    expect(measureEmbeddingInput(["The food was delicious", "and the waiter..."])).toEqual({
      tokens: countTokens("The food was delicious") + countTokens("and the waiter..."),
      imageCount: 0,
    });
    expect(measureEmbeddingInput([[1, 2, 3], "hi"])).toEqual({ tokens: 3 + countTokens("hi"), imageCount: 0 });
  });
});
