import { describe, expect, it } from "vitest";
import { embeddingsRequestSchema } from "~/server/gateway/protocol/embeddings-request";
import { createOpenAIAdapter, createOpenAICompatibleChannelAdapter } from "~/server/gateway/providers/openai";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";

/*
 * The embeddings mapping of the OpenAI-compatible family: what is sent upstream (`POST {base}/embeddings`, the body
 * as OpenAI documents it) and how the answer is read. No recording of an embeddings call exists in the shared
 * fixtures: the answers here follow OpenAI's documented response shape (`{object: "list", data: [{object:
 * "embedding", index, embedding}], model, usage: {prompt_tokens, total_tokens}}`), with 4-dimension vectors.
 */

const openai = createOpenAIAdapter().embeddings!;
const family = createOpenAICompatibleChannelAdapter().embeddings!;

function channel(overrides: Partial<ResolvedChannel> = {}): ResolvedChannel {
  return {
    id: "ch-1",
    name: "openai",
    kind: "openai",
    provider: "openai",
    baseUrl: "https://api.openai.com/v1/",
    apiKey: "sk-upstream",
    priority: 0,
    weight: 1,
    retainsData: true,
    ...overrides,
  };
}

function request(body: Record<string, unknown>) {
  return embeddingsRequestSchema.parse({ model: "openai/text-embedding-3-small", ...body });
}

describe("the OpenAI embeddings request", () => {
  it("posts the client's body to {base}/embeddings with the upstream model and the key as a bearer token", () => {
    const built = openai.buildRequest({
      request: request({ input: ["first", "second"], dimensions: 256, encoding_format: "base64", user: "u-1" }),
      upstreamModel: "text-embedding-3-small",
      channel: channel(),
    });
    expect(built.url).toBe("https://api.openai.com/v1/embeddings");
    expect(built.method).toBe("POST");
    expect(built.headers).toEqual({
      "content-type": "application/json",
      accept: "application/json",
      authorization: "Bearer sk-upstream",
    });
    expect(JSON.parse(built.body!)).toEqual({
      model: "text-embedding-3-small",
      input: ["first", "second"],
      dimensions: 256,
      encoding_format: "base64",
      user: "u-1",
    });
    expect(built.droppedParameters).toBeUndefined();
  });

  it("passes token ids as they are, keeps unknown fields, and leaves out routing fields and null options", () => {
    const built = openai.buildRequest({
      request: request({
        input: [
          [1, 2, 3],
          [4, 5],
        ],
        encoding_format: null,
        dimensions: null,
        provider: { order: ["openai"] },
        input_type: "search_document",
      }),
      upstreamModel: "text-embedding-3-large",
      channel: channel(),
    });
    expect(JSON.parse(built.body!)).toEqual({
      model: "text-embedding-3-large",
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      input_type: "search_document",
    });
  });

  it("keeps `provider` for OpenRouter, itself a router, and sends no key to a keyless upstream", () => {
    const openrouter = family.buildRequest({
      request: request({ input: "x", provider: { order: ["openai"] } }),
      upstreamModel: "openai/text-embedding-3-small",
      channel: channel({ kind: "openai-compatible", provider: "openrouter", baseUrl: "https://openrouter.ai/api/v1" }),
    });
    expect(openrouter.url).toBe("https://openrouter.ai/api/v1/embeddings");
    expect(JSON.parse(openrouter.body!)).toEqual({
      model: "openai/text-embedding-3-small",
      input: "x",
      provider: { order: ["openai"] },
    });
    const keyless = family.buildRequest({
      request: request({ input: "x" }),
      upstreamModel: "nomic-embed-text",
      channel: channel({
        kind: "openai-compatible",
        provider: "ollama",
        apiKey: null,
        baseUrl: "http://ollama:11434/v1",
      }),
    });
    expect(keyless.url).toBe("http://ollama:11434/v1/embeddings");
    expect(keyless.headers.authorization).toBeUndefined();
  });

  it("leaves out what a preset's upstream refuses, and names it", () => {
    const built = family.buildRequest({
      request: request({ input: "x", user: "u-1" }),
      upstreamModel: "mistral-embed",
      channel: channel({ kind: "openai-compatible", provider: "mistral", baseUrl: "https://api.mistral.ai/v1" }),
    });
    expect(JSON.parse(built.body!)).toEqual({ model: "mistral-embed", input: "x" });
    expect(built.droppedParameters).toEqual(["user"]);
  });
});

describe("the OpenAI embeddings answer", () => {
  it("reads the vectors in input order, as numbers or base64, and the upstream's token count", () => {
    const answer = openai.parseResponse({
      object: "list",
      data: [
        { object: "embedding", index: 1, embedding: "AAAAPwAAgL8=" },
        { object: "embedding", index: 0, embedding: [0.0023064255, -0.009327292, 0.015797347, -0.0077780345] },
      ],
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
    expect(answer).toEqual({
      vectors: [[0.0023064255, -0.009327292, 0.015797347, -0.0077780345], "AAAAPwAAgL8="],
      promptTokens: 8,
    });
  });

  it("has no token count when the upstream reports none, and refuses what is not an embeddings answer", () => {
    expect(openai.parseResponse({ data: [{ embedding: [1, 2] }] })).toEqual({ vectors: [[1, 2]], promptTokens: null });
    expect(() => openai.parseResponse({ data: [{ index: 0, embedding: [1, "2"] }] })).toThrow();
    expect(() => openai.parseResponse({ data: [{ index: 0, embedding: { values: [1] } }] })).toThrow();
    expect(() =>
      openai.parseResponse({
        data: [
          { index: 0, embedding: [1] },
          { index: 0, embedding: [2] },
        ],
      }),
    ).toThrow();
    expect(() => openai.parseResponse({ choices: [] })).toThrow();
  });
});
