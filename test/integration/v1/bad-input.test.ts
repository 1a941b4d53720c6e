import { TEST_ACTOR } from "../../helpers/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * Every way a request to POST /v1/chat/completions can be wrong, one row each: the status, OpenAI's error `type`,
 * the `param` that names the offending field, the `code`, and that nothing was billed or logged as a generation.
 */

let harness: GatewayHarness;
let funded: { userId: string; apiKey: string };

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { MAX_REQUEST_BODY_BYTES: String(64 * 1024) } });
  funded = await harness.createFundedUser("10");
});

afterAll(async () => {
  await harness?.stop();
});

const user = { role: "user", content: "hi" };
const valid = { model: "tollgate/echo", messages: [user] };
const withField = (fields: Record<string, unknown>) => JSON.stringify({ ...valid, ...fields });
const withMessage = (message: unknown) => JSON.stringify({ ...valid, messages: [message] });
/** A user message whose second part is an image with this URL. */
const imageMessage = (url: string) => ({
  role: "user",
  content: [
    { type: "text", text: "What is in this picture?" },
    { type: "image_url", image_url: { url } },
  ],
});
const IMAGE_PARAM = "messages[0].content[1].image_url.url";
const BROKEN_BASE64_IMAGE = "data:image/png;base64,@@@not-base64@@@";
const TEXT_DATA_URL = "data:text/plain;base64,aGVsbG8gd29ybGQ=";
/** The smallest valid PNG (1×1, transparent). */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

interface Case {
  body: string | Uint8Array;
  param: string | null;
  code: string;
  status?: number;
  contentType?: string | null;
  method?: string;
}

const cases: Record<string, Case> = {
  // The body as a whole
  "malformed JSON": { body: "{not json", param: null, code: "invalid_json" },
  "garbage bytes": { body: new Uint8Array([0xff, 0xfe, 0x00, 0x13, 0x37]), param: null, code: "invalid_json" },
  "an empty body": { body: "", param: null, code: "invalid_json" },
  "a JSON array": { body: "[]", param: null, code: "invalid_json" },
  "a JSON string": { body: '"hello"', param: null, code: "invalid_json" },
  "a text/plain body": {
    body: withField({}),
    contentType: "text/plain",
    param: null,
    code: "unsupported_content_type",
  },
  "a form-encoded body": {
    body: "model=tollgate%2Fecho",
    contentType: "application/x-www-form-urlencoded",
    param: null,
    code: "unsupported_content_type",
  },
  "no content type": { body: withField({}), contentType: null, param: null, code: "unsupported_content_type" },
  "a body over the limit": {
    body: withMessage({ role: "user", content: "x".repeat(70 * 1024) }),
    status: 413,
    param: null,
    code: "payload_too_large",
  },
  "a GET": { body: "", method: "GET", status: 405, param: null, code: "method_not_allowed" },
  "a PUT": { body: withField({}), method: "PUT", status: 405, param: null, code: "method_not_allowed" },

  // model and messages
  "no model": { body: JSON.stringify({ messages: [user] }), param: "model", code: "missing_required_parameter" },
  "a numeric model": { body: withField({ model: 42 }), param: "model", code: "invalid_type" },
  "an empty model": { body: withField({ model: "" }), param: "model", code: "invalid_value" },
  "no messages": {
    body: JSON.stringify({ model: "tollgate/echo" }),
    param: "messages",
    code: "missing_required_parameter",
  },
  "messages as a string": { body: withField({ messages: "hi" }), param: "messages", code: "invalid_type" },
  "empty messages": { body: withField({ messages: [] }), param: "messages", code: "invalid_value" },
  "a message that is not an object": { body: withMessage("hi"), param: "messages[0]", code: "invalid_type" },
  "an unknown role": {
    body: withMessage({ role: "robot", content: "x" }),
    param: "messages[0].role",
    code: "invalid_value",
  },
  "a user message without content": {
    body: withMessage({ role: "user" }),
    param: "messages[0].content",
    code: "missing_required_parameter",
  },
  "numeric content": {
    body: withMessage({ role: "user", content: 7 }),
    param: "messages[0].content",
    code: "invalid_type",
  },
  "an unknown content part": {
    body: withMessage({ role: "user", content: [{ type: "video", video: {} }] }),
    param: "messages[0].content[0].type",
    code: "invalid_value",
  },
  "an image part with a file URL": {
    body: withMessage({ role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] }),
    param: "messages[0].content[0].image_url.url",
    code: "invalid_value",
  },
  "an image part with a plain http URL": {
    body: withMessage({
      role: "user",
      content: [{ type: "image_url", image_url: { url: "http://example.com/a.png" } }],
    }),
    param: "messages[0].content[0].image_url.url",
    code: "invalid_value",
  },
  "an image part with a bad detail": {
    body: withMessage({
      role: "user",
      content: [{ type: "image_url", image_url: { url: "https://example.com/a.png", detail: "max" } }],
    }),
    param: "messages[0].content[0].image_url.detail",
    code: "invalid_value",
  },
  "an image data URL with broken base64": {
    body: withMessage(imageMessage(BROKEN_BASE64_IMAGE)),
    param: IMAGE_PARAM,
    code: "invalid_value",
  },
  "an image data URL with base64 cut short": {
    body: withMessage(imageMessage(`data:image/png;base64,${PNG_BASE64.slice(0, 50)}`)),
    param: IMAGE_PARAM,
    code: "invalid_value",
  },
  "an image data URL of type text/plain": {
    body: withMessage(imageMessage(TEXT_DATA_URL)),
    param: IMAGE_PARAM,
    code: "invalid_value",
  },
  "an image data URL of type application/pdf": {
    body: withMessage(imageMessage("data:application/pdf;base64,JVBERi0xLjQ=")),
    param: IMAGE_PARAM,
    code: "invalid_value",
  },
  "a URL-encoded SVG data URL": {
    body: withMessage(
      imageMessage("data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E"),
    ),
    param: IMAGE_PARAM,
    code: "invalid_value",
  },
  "a tool message without tool_call_id": {
    body: withMessage({ role: "tool", content: "42" }),
    param: "messages[0].tool_call_id",
    code: "missing_required_parameter",
  },
  "an empty assistant message": {
    body: withMessage({ role: "assistant" }),
    param: "messages[0].content",
    code: "invalid_value",
  },
  "an assistant tool call without a name": {
    body: withMessage({
      role: "assistant",
      tool_calls: [{ id: "call_1", type: "function", function: { arguments: "{}" } }],
    }),
    param: "messages[0].tool_calls[0].function.name",
    code: "missing_required_parameter",
  },

  // Sampling and length
  "temperature above 2": { body: withField({ temperature: 2.5 }), param: "temperature", code: "invalid_value" },
  "temperature below 0": { body: withField({ temperature: -0.1 }), param: "temperature", code: "invalid_value" },
  "temperature as a string": { body: withField({ temperature: "hot" }), param: "temperature", code: "invalid_type" },
  "top_p above 1": { body: withField({ top_p: 1.5 }), param: "top_p", code: "invalid_value" },
  "n of 0": { body: withField({ n: 0 }), param: "n", code: "invalid_value" },
  "a fractional n": { body: withField({ n: 1.5 }), param: "n", code: "invalid_type" },
  "five stop sequences": { body: withField({ stop: ["a", "b", "c", "d", "e"] }), param: "stop", code: "invalid_value" },
  "a numeric stop": { body: withField({ stop: 5 }), param: "stop", code: "invalid_type" },
  "negative max_tokens": { body: withField({ max_tokens: -1 }), param: "max_tokens", code: "invalid_value" },
  "negative max_completion_tokens": {
    body: withField({ max_completion_tokens: -5 }),
    param: "max_completion_tokens",
    code: "invalid_value",
  },
  "frequency_penalty above 2": {
    body: withField({ frequency_penalty: 2.1 }),
    param: "frequency_penalty",
    code: "invalid_value",
  },
  "presence_penalty below -2": {
    body: withField({ presence_penalty: -3 }),
    param: "presence_penalty",
    code: "invalid_value",
  },
  "a logit_bias key that is not a token id": {
    body: withField({ logit_bias: { hello: 1 } }),
    param: "logit_bias.hello",
    code: "invalid_value",
  },
  "a logit_bias value out of range": {
    body: withField({ logit_bias: { "50256": -101 } }),
    param: "logit_bias.50256",
    code: "invalid_value",
  },
  "a string seed": { body: withField({ seed: "x" }), param: "seed", code: "invalid_type" },
  "logprobs as a string": { body: withField({ logprobs: "yes" }), param: "logprobs", code: "invalid_type" },
  "top_logprobs above 20": { body: withField({ top_logprobs: 21 }), param: "top_logprobs", code: "invalid_value" },
  "stream as a string": { body: withField({ stream: "yes" }), param: "stream", code: "invalid_type" },
  "include_usage as a string": {
    body: withField({ stream: true, stream_options: { include_usage: "yes" } }),
    param: "stream_options.include_usage",
    code: "invalid_type",
  },
  "an unknown reasoning_effort": {
    body: withField({ reasoning_effort: "extreme" }),
    param: "reasoning_effort",
    code: "invalid_value",
  },
  "an unknown reasoning.effort": {
    body: withField({ reasoning: { effort: "extreme" } }),
    param: "reasoning.effort",
    code: "invalid_value",
  },
  "a numeric metadata value": {
    body: withField({ metadata: { team: 1 } }),
    param: "metadata.team",
    code: "invalid_type",
  },
  "an unknown verbosity": { body: withField({ verbosity: "loud" }), param: "verbosity", code: "invalid_value" },
  "negative top_k": { body: withField({ top_k: -1 }), param: "top_k", code: "invalid_value" },
  "min_p above 1": { body: withField({ min_p: 2 }), param: "min_p", code: "invalid_value" },
  "repetition_penalty of 0": {
    body: withField({ repetition_penalty: 0 }),
    param: "repetition_penalty",
    code: "invalid_value",
  },

  // Tools and structured output
  "a tool with an invalid name": {
    body: withField({ tools: [{ type: "function", function: { name: "get weather!" } }] }),
    param: "tools[0].function.name",
    code: "invalid_value",
  },
  "a tool that is not a function": {
    body: withField({ tools: [{ type: "computer", computer: {} }] }),
    param: "tools[0].type",
    code: "invalid_value",
  },
  "tool parameters that are not an object": {
    body: withField({ tools: [{ type: "function", function: { name: "f", parameters: "{}" } }] }),
    param: "tools[0].function.parameters",
    code: "invalid_type",
  },
  "an unknown tool_choice": {
    body: withField({ tool_choice: "sometimes" }),
    param: "tool_choice",
    code: "invalid_value",
  },
  "parallel_tool_calls as a string": {
    body: withField({ parallel_tool_calls: "true" }),
    param: "parallel_tool_calls",
    code: "invalid_type",
  },
  "an unknown response_format": {
    body: withField({ response_format: { type: "xml" } }),
    param: "response_format.type",
    code: "invalid_value",
  },
  "a json_schema without a name": {
    body: withField({ response_format: { type: "json_schema", json_schema: { schema: {} } } }),
    param: "response_format.json_schema.name",
    code: "missing_required_parameter",
  },

  // Routing fields (validated here; their behaviour belongs to routing)
  "empty fallback models": { body: withField({ models: [] }), param: "models", code: "invalid_value" },
  "an unknown route": { body: withField({ route: "random" }), param: "route", code: "invalid_value" },
  "an unknown provider sort": {
    body: withField({ provider: { sort: "cheapest" } }),
    param: "provider.sort",
    code: "invalid_value",
  },
};

describe("bad input to POST /v1/chat/completions", () => {
  it.each(Object.entries(cases))("refuses %s", async (_label, testCase) => {
    const ledgerBefore = (await ledgerOf(harness.container.db, funded.userId)).length;
    const generationsBefore = (await generationsOf(harness.container.db, funded.userId)).length;

    const headers: Record<string, string> = { authorization: `Bearer ${funded.apiKey}` };
    if (testCase.contentType !== null) headers["content-type"] = testCase.contentType ?? "application/json";
    const method = testCase.method ?? "POST";
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method,
      headers,
      // A Uint8Array body makes fetch send no content type of its own.
      body: method === "GET" ? undefined : Buffer.from(testCase.body),
    });
    const text = await response.text();
    const status = testCase.status ?? 400;
    expect({ status: response.status, text }).toMatchObject({ status });
    const body = JSON.parse(text) as {
      error: { message: string; type: string; param: string | null; code: string; metadata: { error_type: string } };
    };
    assertMatchesOpenAISpec("error", body);
    expect(body.error).toMatchObject({ type: "invalid_request_error", param: testCase.param, code: testCase.code });
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(body.error.message).not.toMatch(/at \w+ \(|node_modules|ZodError/);
    expect(body.error.metadata.error_type).toEqual(expect.any(String));
    expect(response.headers.get("x-request-id")).toMatch(/\S{8,}/);
    if (status === 405) expect(response.headers.get("allow")).toBe("POST");

    await harness.container.usageWriter.flush();
    expect(await ledgerOf(harness.container.db, funded.userId)).toHaveLength(ledgerBefore);
    expect(await generationsOf(harness.container.db, funded.userId)).toHaveLength(generationsBefore);
    await expectLedgerConsistent(harness.container.db, funded.userId);
  });

  it("still accepts the same request once it is fixed", async () => {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${funded.apiKey}`, "content-type": "application/json; charset=utf-8" },
      body: withField({
        temperature: 2,
        top_p: 0,
        n: 1,
        stop: ["a", "b", "c", "d"],
        logit_bias: { "50256": -100 },
        top_logprobs: 20,
        reasoning: { effort: "low", exclude: true },
        metadata: { team: "search" },
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" }, strict: true } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" } } },
        some_future_parameter: { anything: true },
      }),
    });
    expect(response.status).toBe(200);
  });
});

/*
 * An image the upstream could not read, on every provider path (OpenAI passes data URLs through as sent; Anthropic and
 * Gemini convert them): refused at the edge with the part named, never dispatched, never billed.
 */
describe("image data URLs no provider could read", () => {
  const IMAGE_MODELS = ["openai/gpt-4.1", "anthropic/claude-haiku-4.5", "google/gemini-2.5-flash"];
  let upstream: ReplayUpstream;

  beforeAll(async () => {
    upstream = await startReplayUpstream();
    upstream.respondWith((request) => {
      if (request.url.endsWith("/messages")) return "anthropic/text";
      if (request.url.includes(":generateContent")) return "gemini/text";
      return "openai/text";
    });
    const { db, secretBox, changes } = harness.container;
    const kinds = ["openai", "anthropic", "gemini"] as const;
    for (const [index, kind] of kinds.entries()) {
      await addChannel(
        db,
        secretBox,
        changes,
        {
          kind,
          name: `${kind}-images`,
          baseUrl: upstream.baseUrl,
          apiKey: "upstream-key",
          models: [{ modelId: IMAGE_MODELS[index]! }],
        },
        TEST_ACTOR,
      );
    }
  });

  afterAll(async () => {
    await upstream?.close();
  });

  const post = (model: string, url: string) =>
    fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${funded.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [imageMessage(url)] }),
    });

  const refused = IMAGE_MODELS.flatMap((model): [string, string, string][] => [
    [model, "broken base64", BROKEN_BASE64_IMAGE],
    [model, "a text/plain data URL", TEXT_DATA_URL],
  ]);

  it.each(refused)(
    "%s: refuses %s with a 400 naming the part; no upstream call, no charge",
    async (model, _label, url) => {
      const { db } = harness.container;
      // Earlier calls' charges are settled first, so that "before" is final.
      await harness.container.usageWriter.flush();
      const hitsBefore = upstream.received.length;
      const balanceBefore = await balanceOf(db, funded.userId);
      const ledgerBefore = await ledgerOf(db, funded.userId);
      const generationsBefore = (await generationsOf(db, funded.userId)).length;

      const response = await post(model, url);
      const body = (await response.json()) as { error: { type: string; param: string; code: string; message: string } };
      expect(response.status).toBe(400);
      assertMatchesOpenAISpec("error", body);
      expect(body.error).toMatchObject({ type: "invalid_request_error", param: IMAGE_PARAM, code: "invalid_value" });
      expect(body.error.message).toContain(`\`${IMAGE_PARAM}\``);

      await harness.container.usageWriter.flush();
      expect(upstream.received).toHaveLength(hitsBefore);
      expect(await balanceOf(db, funded.userId)).toBe(balanceBefore);
      expect(await ledgerOf(db, funded.userId)).toEqual(ledgerBefore);
      expect(await generationsOf(db, funded.userId)).toHaveLength(generationsBefore);
      await expectLedgerConsistent(db, funded.userId);
    },
  );

  it.each(IMAGE_MODELS)("%s: a valid PNG data URL still goes through, and is billed", async (model) => {
    const { db } = harness.container;
    await harness.container.usageWriter.flush();
    const hitsBefore = upstream.received.length;
    const generationsBefore = (await generationsOf(db, funded.userId)).length;

    const response = await post(model, `data:image/png;base64,${PNG_BASE64}`);
    expect(response.status).toBe(200);
    expect(upstream.received).toHaveLength(hitsBefore + 1);
    // The image's bytes reached the upstream, as OpenAI's data URL or as a native base64 block.
    expect(JSON.stringify(upstream.received.at(-1)!.body)).toContain(PNG_BASE64);

    await harness.container.usageWriter.flush();
    expect(await generationsOf(db, funded.userId)).toHaveLength(generationsBefore + 1);
    await expectLedgerConsistent(db, funded.userId);
  });
});
