import { describe, expect, it } from "vitest";
import { buildChatRequest, DEFAULT_SETTINGS } from "~/components/playground/chat-request";

describe("buildChatRequest", () => {
  it("sends the conversation streamed with usage, and nothing the settings leave at the model's default", () => {
    expect(buildChatRequest("tollgate/echo", DEFAULT_SETTINGS, [{ role: "user", content: "hi" }])).toEqual({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("puts the system prompt first and every chosen parameter in OpenAI's and OpenRouter's names", () => {
    const body = buildChatRequest(
      "openai/gpt-4.1",
      { systemPrompt: "  Be terse.  ", temperature: 0, maxTokens: 64, reasoningEffort: "high", jsonMode: true },
      [
        { role: "user", content: "one" },
        { role: "assistant", content: "two" },
        { role: "user", content: "three" },
      ],
    );
    expect(body).toMatchObject({
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "one" },
        { role: "assistant", content: "two" },
        { role: "user", content: "three" },
      ],
      temperature: 0,
      max_tokens: 64,
      reasoning: { effort: "high" },
      response_format: { type: "json_object" },
    });
  });

  it("leaves out answers that came back empty (stopped before a word, or failed)", () => {
    const body = buildChatRequest("m", DEFAULT_SETTINGS, [
      { role: "user", content: "first" },
      { role: "assistant", content: "" },
      { role: "user", content: "again" },
    ]);
    expect(body.messages).toEqual([
      { role: "user", content: "first" },
      { role: "user", content: "again" },
    ]);
  });
});
