import { describe, expect, it } from "vitest";
import { embeddingsRequestSchema } from "~/server/gateway/protocol/embeddings-request";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";

/*
 * Gemini's embeddings mapping: `:batchEmbedContents` with one request per input, and its answer. No recording of an
 * embeddings call exists in the shared fixtures: the answer follows Gemini's documented BatchEmbedContentsResponse
 * (`{embeddings: [{values: number[]}]}`), with 4-dimension vectors.
 */

const adapter = createGeminiAdapter();
const embeddings = adapter.embeddings!;

const channel: ResolvedChannel = {
  id: "ch-1",
  name: "gemini",
  kind: "gemini",
  provider: "google",
  baseUrl: "https://generativelanguage.googleapis.com",
  apiKey: "gm-key",
  priority: 0,
  weight: 1,
  retainsData: true,
};

function build(body: Record<string, unknown>) {
  const built = embeddings.buildRequest({
    request: embeddingsRequestSchema.parse({ model: "google/gemini-embedding-001", ...body }),
    upstreamModel: "gemini-embedding-001",
    channel,
  });
  return { ...built, json: JSON.parse(built.body ?? "null") as unknown };
}

describe("the Gemini embeddings request", () => {
  it("sends one request per input to :batchEmbedContents with the key in x-goog-api-key", () => {
    const built = build({ input: ["first", "second"], dimensions: 768, encoding_format: "base64" });
    expect(built.url).toBe(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents",
    );
    expect(built.method).toBe("POST");
    expect(built.headers).toEqual({
      "content-type": "application/json",
      accept: "application/json",
      "x-goog-api-key": "gm-key",
    });
    expect(built.json).toEqual({
      requests: [
        {
          model: "models/gemini-embedding-001",
          content: { parts: [{ text: "first" }] },
          outputDimensionality: 768,
        },
        {
          model: "models/gemini-embedding-001",
          content: { parts: [{ text: "second" }] },
          outputDimensionality: 768,
        },
      ],
    });
    // The encoding is the gateway's to make: nothing is dropped.
    expect(built.droppedParameters).toBeUndefined();
  });

  it("sends a single text as one request without a dimensionality, and names what Gemini has no field for", () => {
    const built = build({ input: "only", user: "u-1" });
    expect(built.json).toEqual({
      requests: [{ model: "models/gemini-embedding-001", content: { parts: [{ text: "only" }] } }],
    });
    expect(built.droppedParameters).toEqual(["user"]);
  });

  it("takes no token ids", () => {
    expect(embeddings.acceptsTokenArrays).toBe(false);
    expect(() => build({ input: [1, 2, 3] })).toThrow();
  });
});

describe("the Gemini embeddings answer", () => {
  it("reads the vectors in batch order and reports no token count (the gateway counts the input)", () => {
    const answer = embeddings.parseResponse({
      embeddings: [{ values: [0.013168523, -0.008711934, -0.046782676, 0.00069968984] }, { values: [0.5, -1, 0, 2] }],
    });
    expect(answer).toEqual({
      vectors: [
        [0.013168523, -0.008711934, -0.046782676, 0.00069968984],
        [0.5, -1, 0, 2],
      ],
      promptTokens: null,
    });
  });

  it("refuses what is not an embeddings answer", () => {
    expect(() => embeddings.parseResponse({ embedding: { values: [1] } })).toThrow();
    expect(() => embeddings.parseResponse({ embeddings: [{ values: ["1"] }] })).toThrow();
  });

  it("reads its errors with the chat adapter's reader", () => {
    const error = adapter.parseError(
      400,
      JSON.stringify({
        error: { code: 400, message: "Request contains an invalid argument.", status: "INVALID_ARGUMENT" },
      }),
    );
    expect(error).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      message: "Request contains an invalid argument.",
    });
  });
});
