import { TEST_ACTOR } from "../../helpers/audit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let apiKey: string;

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  const { db, secretBox, changes } = harness.container;
  // The same local upstream behind two kinds of channel: a generic OpenAI-compatible server and OpenAI itself.
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "compatible",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/gpt-4o", upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "openai",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/gpt-4.1", upstreamModel: "gpt-4.1" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "openai-reasoning",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/o3", upstreamModel: "o3" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "anthropic",
      name: "anthropic-native",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-ant-test",
      models: [{ modelId: "anthropic/claude-sonnet-4.5", upstreamModel: "claude-sonnet-4-5" }],
    },
    TEST_ACTOR,
  );
  // The OpenAI-compatible family: one channel per provider preset (chosen by the provider slug).
  for (const [provider, modelId] of [
    ["openrouter", "anthropic/claude-haiku-4.5"],
    ["deepseek", "deepseek/deepseek-chat"],
    ["mistral", "google/gemini-2.5-flash"],
  ] as const) {
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name: `preset-${provider}`,
        provider,
        baseUrl: upstream.baseUrl,
        apiKey: "sk-upstream-secret",
        models: [{ modelId, upstreamModel: `${provider}-model` }],
      },
      TEST_ACTOR,
    );
  }
  ({ apiKey } = await harness.createFundedUser("5"));
});

afterAll(async () => {
  await upstream?.close();
  await harness?.stop();
});

async function post(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const sentBefore = upstream.received.length;
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return { response, text, sent: upstream.received[sentBefore]?.body as Record<string, unknown> };
}

const messages = [{ role: "user", content: "replay" }];

describe("what reaches the upstream", () => {
  it("forwards a parameter the gateway does not know, unchanged", async () => {
    upstream.respondWith(() => "openai/text");
    const unknown = { nested: { list: [1, "two", null, { deep: true }] }, number: 1.5e-7, text: "é😀" };
    const { sent } = await post({ model: "openai/gpt-4o", messages, some_future_parameter: unknown, web_search: true });
    expect(sent.some_future_parameter).toStrictEqual(unknown);
    expect(sent.web_search).toBe(true);
  });

  it("forwards every documented parameter as sent", async () => {
    upstream.respondWith(() => "openai/text");
    const parameters = {
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n"],
      max_completion_tokens: 64,
      seed: 7,
      logprobs: true,
      top_logprobs: 3,
      user: "end-user-1",
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" }, strict: true } }],
      tool_choice: "auto",
      parallel_tool_calls: false,
      response_format: { type: "json_object" },
      metadata: { team: "search" },
      top_k: 40,
      min_p: 0.05,
      reasoning: { effort: "low" },
    };
    const { sent } = await post({ model: "openai/gpt-4o", messages, ...parameters });
    expect(sent).toMatchObject({ ...parameters, model: "gpt-4o", messages });
  });

  it("keeps the gateway's own routing fields to itself", async () => {
    upstream.respondWith(() => "openai/text");
    const { sent } = await post({
      model: "openai/gpt-4o",
      messages,
      models: ["openai/gpt-4o"],
      route: "fallback",
      provider: { sort: "price" },
    });
    expect(sent).not.toHaveProperty("models");
    expect(sent).not.toHaveProperty("route");
    expect(sent).not.toHaveProperty("provider");
  });

  it("drops OpenRouter's extensions for OpenAI itself, which refuses them, and maps reasoning.effort", async () => {
    upstream.respondWith(() => "openai/text");
    const { sent, response } = await post({
      model: "openai/gpt-4.1",
      messages,
      top_k: 40,
      top_a: 0.1,
      min_p: 0.05,
      repetition_penalty: 1.1,
      reasoning: { effort: "high" },
      temperature: 0.5,
    });
    expect(sent).toMatchObject({ model: "gpt-4.1", temperature: 0.5, reasoning_effort: "high" });
    expect(response.headers.get("x-tollgate-dropped-parameters")).toBe("top_k, top_a, min_p, repetition_penalty");
    for (const field of ["top_k", "top_a", "min_p", "repetition_penalty", "reasoning"]) {
      expect(sent).not.toHaveProperty(field);
    }
  });
});

describe("what the client gets back", () => {
  it("names the request, the generation, the provider and the model in headers", async () => {
    upstream.respondWith(() => "openai/text");
    const { response, text } = await post(
      { model: "openai/gpt-4o", messages },
      { "x-request-id": "client-trace-0001" },
    );
    const completion = JSON.parse(text) as { id: string };
    expect(response.headers.get("x-request-id")).toBe("client-trace-0001");
    expect(response.headers.get("x-generation-id")).toBe(completion.id);
    expect(response.headers.get("x-tollgate-provider")).toBe("compatible");
    expect(response.headers.get("x-tollgate-model")).toBe("openai/gpt-4o");

    const generated = await post({ model: "openai/gpt-4o", messages }, { "x-request-id": "bad id with spaces" });
    expect(generated.response.headers.get("x-request-id")).toMatch(/^req-/);
  });

  it("normalises finish_reason and keeps the provider's own as native_finish_reason", async () => {
    upstream.respondWith(() => "openai/finish-length");
    const { text } = await post({ model: "openai/gpt-4o", messages });
    const completion = JSON.parse(text) as { choices: { finish_reason: string; native_finish_reason: string }[] };
    assertMatchesOpenAISpec("response", completion);
    expect(completion.choices[0]).toMatchObject({ finish_reason: "length", native_finish_reason: "length" });

    upstream.respondWith(() => "openai/tool-call-required");
    const tools = JSON.parse((await post({ model: "openai/gpt-4o", messages })).text) as typeof completion;
    expect(tools.choices[0]).toMatchObject({ finish_reason: "tool_calls", native_finish_reason: "tool_calls" });
  });

  it.each(["openai/multiple-choices-n3-stream", "openai-compatible/groq-tool-call-stream"])(
    "opens every streamed choice of %s with the assistant role",
    async (name) => {
      upstream.respondWith(() => name);
      const client = new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: "openai/gpt-4o",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      });
      const firstDelta = new Map<number, { role?: string }>();
      let finishes = 0;
      for await (const chunk of stream) {
        assertMatchesOpenAISpec("chunk", chunk);
        for (const choice of chunk.choices) {
          if (!firstDelta.has(choice.index)) firstDelta.set(choice.index, choice.delta);
          if (choice.finish_reason !== null) {
            finishes += 1;
            expect(["stop", "length", "tool_calls", "content_filter"]).toContain(choice.finish_reason);
            expect((choice as unknown as { native_finish_reason: string }).native_finish_reason).toEqual(
              expect.any(String),
            );
          }
        }
      }
      expect(firstDelta.size).toBeGreaterThan(0);
      for (const delta of firstDelta.values()) expect(delta.role).toBe("assistant");
      expect(finishes).toBe(firstDelta.size);
    },
  );
});

describe("provider presets", () => {
  const extensions = { top_k: 40, top_a: 0.1, min_p: 0.05, repetition_penalty: 1.1, reasoning: { effort: "low" } };

  it("gives OpenAI's reasoning models max_completion_tokens and leaves out the sampling parameters they refuse", async () => {
    upstream.respondWith(() => "openai/reasoning-model-usage");
    const { sent, response } = await post({
      model: "openai/o3",
      messages,
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      presence_penalty: 0.5,
      reasoning_effort: "high",
      seed: 1,
    });
    expect(sent).toMatchObject({ model: "o3", max_completion_tokens: 300, reasoning_effort: "high", seed: 1 });
    for (const field of ["max_tokens", "temperature", "top_p", "presence_penalty"])
      expect(sent).not.toHaveProperty(field);
    expect(response.headers.get("x-tollgate-dropped-parameters")).toBe("temperature, top_p, presence_penalty");
  });

  it("forwards routing fields and every extension to OpenRouter, itself a router", async () => {
    upstream.respondWith(() => "openai/text");
    const routing = { models: ["anthropic/claude-haiku-4.5"], route: "fallback", provider: { sort: "price" } };
    const { sent, response } = await post({ model: "anthropic/claude-haiku-4.5", messages, ...extensions, ...routing });
    expect(sent).toMatchObject({ model: "openrouter-model", ...extensions, ...routing });
    expect(response.headers.get("x-tollgate-dropped-parameters")).toBeNull();
  });

  it("leaves the sampling extensions out for DeepSeek and renames the seed for Mistral", async () => {
    upstream.respondWith(() => "openai/text");
    const deepseek = await post({ model: "deepseek/deepseek-chat", messages, ...extensions, temperature: 0.3 });
    expect(deepseek.sent).toMatchObject({ model: "deepseek-model", temperature: 0.3 });
    for (const field of Object.keys(extensions)) expect(deepseek.sent).not.toHaveProperty(field);

    const mistral = await post({ model: "google/gemini-2.5-flash", messages, seed: 42, logit_bias: { "1": 1 } });
    expect(mistral.sent).toMatchObject({ model: "mistral-model", random_seed: 42 });
    expect(mistral.sent).not.toHaveProperty("seed");
    expect(mistral.response.headers.get("x-tollgate-dropped-parameters")).toBe("logit_bias");
  });
});

describe("dropped parameters named in a header", () => {
  it.each([false, true])(
    "lists only plain names, so a client-chosen key cannot break the answer (stream: %s)",
    async (stream) => {
      upstream.respondWith(() => (stream ? "anthropic/text-stream" : "anthropic/text"));
      // Anthropic refuses fields it does not know, so the adapter leaves these out and reports them.
      const { response, text } = await post({
        model: "anthropic/claude-sonnet-4.5",
        messages,
        stream,
        plain_extra: 1,
        ключ: 2,
        "bad\r\nx-injected: 1": 3,
      });
      expect(response.headers.get("x-tollgate-dropped-parameters")).toBe("plain_extra");
      expect(response.headers.get("x-injected")).toBeNull();
      if (stream) expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
      else expect((JSON.parse(text) as { object: string }).object).toBe("chat.completion");
    },
  );
});
