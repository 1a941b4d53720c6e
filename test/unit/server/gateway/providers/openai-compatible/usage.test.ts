import { describe, expect, it } from "vitest";
import { createOpenAICompatibleAdapter } from "~/server/gateway/providers/openai-compatible/adapter";
import { renderUsage } from "~/server/gateway/protocol/render-usage";

const adapter = createOpenAICompatibleAdapter({ chatCompletionsPath: "/chat/completions" });

describe("OpenAI-compatible usage", () => {
  it("keeps an upstream router's reported charge as nano-USD, exactly to the nine decimals it has", () => {
    const usage = adapter.parseUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 0.0000425 });
    expect(usage).toMatchObject({ promptTokens: 10, completionTokens: 5, upstreamCostNano: 42_500n });
    expect(adapter.parseUsage({ prompt_tokens: 1, completion_tokens: 1 })?.upstreamCostNano).toBeNull();
  });

  it("bills thinking that total_tokens counts but completion_tokens leaves out (Gemini's compatible endpoint)", () => {
    expect(adapter.parseUsage({ prompt_tokens: 35, completion_tokens: 12, total_tokens: 109 })).toMatchObject({
      completionTokens: 74,
      reasoningTokens: 62,
    });
  });

  it("counts that thinking once when it is also reported as reasoning_tokens outside completion_tokens", () => {
    const leftOut = { prompt_tokens: 21, completion_tokens: 0, total_tokens: 81 };
    expect(adapter.parseUsage({ ...leftOut, completion_tokens_details: { reasoning_tokens: 60 } })).toMatchObject({
      completionTokens: 60,
      reasoningTokens: 60,
    });
    // Exactly the missing count, beside some visible output.
    expect(
      adapter.parseUsage({
        prompt_tokens: 21,
        completion_tokens: 10,
        total_tokens: 91,
        completion_tokens_details: { reasoning_tokens: 60 },
      }),
    ).toMatchObject({ completionTokens: 70, reasoningTokens: 60 });
    // Never more reasoning than completion, whatever the upstream claims.
    expect(adapter.parseUsage({ ...leftOut, completion_tokens_details: { reasoning_tokens: 90 } })).toMatchObject({
      completionTokens: 60,
      reasoningTokens: 60,
    });
  });

  it("adds unreported thinking to reasoning that completion_tokens already includes", () => {
    // 40 reasoning tokens inside the 50 of completion_tokens, and 30 more that only total_tokens counts.
    expect(
      adapter.parseUsage({
        prompt_tokens: 10,
        completion_tokens: 50,
        total_tokens: 90,
        completion_tokens_details: { reasoning_tokens: 40 },
      }),
    ).toMatchObject({ completionTokens: 80, reasoningTokens: 70 });
    // OpenAI's own convention: nothing unreported, reasoning as given.
    expect(
      adapter.parseUsage({
        prompt_tokens: 7,
        completion_tokens: 87,
        total_tokens: 94,
        completion_tokens_details: { reasoning_tokens: 64 },
      }),
    ).toMatchObject({ completionTokens: 87, reasoningTokens: 64 });
  });

  it("never shows the client the upstream's own charge", () => {
    const rendered = renderUsage(
      { promptTokens: 10, completionTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      30_000n,
      {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        cost: 0.0000425,
        is_byok: false,
        cost_details: { upstream_inference_cost: 0.00004 },
      },
    );
    expect(rendered.cost).toBe(0.00003);
    expect(rendered).not.toHaveProperty("cost_details");
    expect(rendered).not.toHaveProperty("is_byok");
  });
});
