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
