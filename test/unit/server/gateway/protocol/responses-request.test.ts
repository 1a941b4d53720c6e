import { describe, expect, it } from "vitest";
import {
  chatCompletionRequestSchema,
  type ChatCompletionRequest,
} from "~/server/gateway/protocol/chat-completion-request";
import { describeIssue } from "~/server/gateway/protocol/describe-issue";
import { encodeReasoningToken } from "~/server/gateway/protocol/responses-reasoning-token";
import { responseSettingsOf, responsesRequestSchema, toChatRequest } from "~/server/gateway/protocol/responses-request";

/*
 * The Responses door's request: what it accepts, what it refuses (and how it says so), and the common request it
 * makes. The reasoning round trip through real provider answers is in responses-encoder.test.ts.
 */

type Body = Record<string, unknown>;

const MODEL = "openai/gpt-4.1";

function translate(body: Body): ChatCompletionRequest {
  return toChatRequest(responsesRequestSchema.parse({ model: MODEL, ...body }));
}

/** The first issue a client would be told about, in the words the door's 400 uses. */
function refusal(body: Body) {
  const input = { model: MODEL, ...body };
  const result = responsesRequestSchema.safeParse(input);
  expect(result.success).toBe(false);
  return describeIssue(result.error!.issues[0]!, input);
}

const user = (content: unknown) => ({ role: "user", content });

/** 1×1 transparent PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const PDF = "JVBERi0xLjQK";

describe("toChatRequest: input", () => {
  it("makes a string input one user message, after the instructions as a system message", () => {
    expect(translate({ instructions: "Be brief.", input: "Hello" }).messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
    ]);
  });

  it("takes messages with or without type: message, in every role", () => {
    const request = translate({
      input: [
        { role: "developer", content: "Answer in French." },
        { type: "message", role: "system", content: [{ type: "input_text", text: "Be kind." }] },
        user("Hi"),
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Bonjour", annotations: [] }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "Again" }] },
      ],
    });
    expect(request.messages).toEqual([
      { role: "developer", content: "Answer in French." },
      { role: "system", content: [{ type: "text", text: "Be kind." }] },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Bonjour" },
      { role: "user", content: [{ type: "text", text: "Again" }] },
    ]);
  });

  it("maps images by URL or inline, and files inline or by URL", () => {
    const request = translate({
      input: [
        user([
          { type: "input_text", text: "Compare." },
          { type: "input_image", image_url: "https://example.com/cat.jpg", detail: "low" },
          { type: "input_image", image_url: `data:image/png;base64,${PNG}` },
          { type: "input_file", file_data: `data:application/pdf;base64,${PDF}`, filename: "a.pdf" },
          { type: "input_file", file_url: "https://example.com/b.pdf" },
        ]),
      ],
    });
    expect(request.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Compare." },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "a.pdf" } },
          { type: "file", file: { file_data: "https://example.com/b.pdf" } },
        ],
      },
    ]);
  });

  it("gathers an assistant turn's message, reasoning and function calls into one message, then the results", () => {
    const token = encodeReasoningToken([
      { type: "reasoning.text", text: "Two cities.", signature: "sig-1", format: "anthropic-claude-v1" },
      { type: "reasoning.encrypted", data: "opaque", format: "anthropic-claude-v1" },
    ]);
    const request = translate({
      input: [
        user("Weather in Paris and Rome?"),
        {
          type: "reasoning",
          id: "rs_1",
          summary: [{ type: "summary_text", text: "Two cities." }],
          encrypted_content: token,
        },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "weather", arguments: '{"city":"Paris"}' },
        { type: "function_call", id: "fc_2", call_id: "call_2", name: "weather", arguments: '{"city":"Rome"}' },
        { type: "function_call_output", call_id: "call_1", output: "18°C" },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "21°C" }] },
      ],
    });
    expect(request.messages).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
        ],
        reasoning: "Two cities.",
        reasoning_details: [
          { type: "reasoning.text", text: "Two cities.", signature: "sig-1", format: "anthropic-claude-v1", index: 0 },
          { type: "reasoning.encrypted", data: "opaque", format: "anthropic-claude-v1", index: 1 },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "18°C" },
      { role: "tool", tool_call_id: "call_2", content: "21°C" },
    ]);
    // The common request's own rules hold for what the door made.
    expect(chatCompletionRequestSchema.safeParse(request).error?.issues).toBeUndefined();
  });

  it("numbers reasoning carried by several items in the order of the turn", () => {
    const item = (text: string, signature: string) => ({
      type: "reasoning",
      summary: [],
      encrypted_content: encodeReasoningToken([{ type: "reasoning.text", text, signature }]),
    });
    const request = translate({
      input: [
        user("Go"),
        item("First.", "s1"),
        { type: "function_call", call_id: "c1", name: "a", arguments: "{}" },
        item("Second.", "s2"),
        { type: "function_call", call_id: "c2", name: "b", arguments: "{}" },
      ],
    });
    expect(request.messages[1]).toMatchObject({
      role: "assistant",
      content: null,
      reasoning: "First.\n\nSecond.",
      reasoning_details: [
        { type: "reasoning.text", text: "First.", signature: "s1", index: 0 },
        { type: "reasoning.text", text: "Second.", signature: "s2", index: 1 },
      ],
    });
  });

  it("leaves out reasoning that carries nothing back, and a turn of reasoning alone", () => {
    const request = translate({
      input: [
        user("Hi"),
        { type: "reasoning", summary: [{ type: "summary_text", text: "Thought." }] },
        { type: "message", role: "assistant", content: "Hello" },
        user("And?"),
        { type: "reasoning", summary: [], encrypted_content: null },
        user("Still there?"),
      ],
    });
    expect(request.messages).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "And?" },
      { role: "user", content: "Still there?" },
    ]);
  });

  it("keeps an assistant refusal as a refusal part", () => {
    const request = translate({
      input: [
        user("Do it"),
        { type: "message", role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
        user("Please"),
      ],
    });
    expect(request.messages[1]).toEqual({ role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] });
  });

  it("moves a function output's images into a user message after the tool results", () => {
    const request = translate({
      input: [
        user("Screenshot"),
        { type: "function_call", call_id: "c1", name: "shoot", arguments: "{}" },
        {
          type: "function_call_output",
          call_id: "c1",
          output: [
            { type: "input_text", text: "Here:" },
            { type: "input_image", image_url: "https://example.com/s.png" },
          ],
        },
        user("What do you see?"),
      ],
    });
    expect(request.messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "c1", content: "Here:" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/s.png" } }] },
      { role: "user", content: "What do you see?" },
    ]);
  });
});

describe("toChatRequest: options", () => {
  it("maps tools, tool choice, reasoning, output format, limits, sampling and routing", () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const provider = { order: ["openai"], allow_fallbacks: false };
    const request = translate({
      input: "Weather?",
      tools: [
        { type: "function", name: "weather", description: "Current weather", parameters: schema, strict: true },
        { type: "function", name: "now" },
      ],
      tool_choice: { type: "function", name: "weather" },
      parallel_tool_calls: false,
      reasoning: { effort: "low", summary: "auto" },
      text: { format: { type: "json_schema", name: "answer", schema, strict: true }, verbosity: "low" },
      max_output_tokens: 300,
      temperature: 0.3,
      top_p: 0.9,
      user: "user-1",
      metadata: { purpose: "test" },
      stream: true,
      store: false,
      include: ["reasoning.encrypted_content"],
      models: ["openai/gpt-4o"],
      provider,
    });
    expect(request).toEqual({
      model: MODEL,
      messages: [{ role: "user", content: "Weather?" }],
      stream: true,
      max_tokens: 300,
      temperature: 0.3,
      top_p: 0.9,
      user: "user-1",
      metadata: { purpose: "test" },
      tools: [
        {
          type: "function",
          function: { name: "weather", description: "Current weather", parameters: schema, strict: true },
        },
        { type: "function", function: { name: "now" } },
      ],
      tool_choice: { type: "function", function: { name: "weather" } },
      parallel_tool_calls: false,
      reasoning: { effort: "low" },
      response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } },
      verbosity: "low",
      models: ["openai/gpt-4o"],
      provider,
    });
    expect(chatCompletionRequestSchema.safeParse(request).error?.issues).toBeUndefined();
  });

  it.each([
    ["auto", "auto"],
    ["none", "none"],
    ["required", "required"],
  ])("passes tool_choice %j on as %j", (choice, expected) => {
    expect(translate({ input: "x", tool_choice: choice }).tool_choice).toBe(expected);
  });

  it("maps json_object, and leaves the default text format out", () => {
    expect(translate({ input: "x", text: { format: { type: "json_object" } } }).response_format).toEqual({
      type: "json_object",
    });
    expect(translate({ input: "x", text: { format: { type: "text" } } })).not.toHaveProperty("response_format");
  });

  it("repeats the request's settings in the Response, with OpenAI's defaults", () => {
    expect(responseSettingsOf(responsesRequestSchema.parse({ model: MODEL, input: "x" }))).toEqual({
      instructions: null,
      max_output_tokens: null,
      metadata: {},
      parallel_tool_calls: true,
      reasoning: { effort: null, summary: null },
      temperature: null,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [],
      top_p: null,
    });
    const settings = responseSettingsOf(
      responsesRequestSchema.parse({
        model: MODEL,
        input: "x",
        instructions: "Be brief.",
        tools: [{ type: "function", name: "now", parameters: { type: "object" } }],
        tool_choice: { type: "function", name: "now" },
        text: { format: { type: "json_schema", name: "a", schema: { type: "object" } } },
        user: "u",
      }),
    );
    expect(settings).toMatchObject({
      instructions: "Be brief.",
      tools: [{ type: "function", name: "now", description: null, parameters: { type: "object" }, strict: null }],
      tool_choice: { type: "function", name: "now" },
      text: { format: { type: "json_schema", name: "a", schema: { type: "object" }, strict: null } },
      user: "u",
    });
  });
});

describe("responsesRequestSchema refusals", () => {
  const stateless =
    "Tollgate keeps no conversation state: send the whole conversation in `input` each time (the output items of " +
    "earlier responses included), with `store` false or left out.";

  it("accepts store: false or no store, and refuses stored state", () => {
    expect(responsesRequestSchema.safeParse({ model: MODEL, input: "x", store: false }).success).toBe(true);
    expect(responsesRequestSchema.safeParse({ model: MODEL, input: "x" }).success).toBe(true);
    expect(refusal({ input: "x", store: true })).toEqual({
      message: `Invalid value for \`store\`: ${stateless}`,
      param: "store",
      code: "invalid_value",
    });
    expect(refusal({ input: "x", previous_response_id: "resp_123" })).toEqual({
      message: `Invalid value for \`previous_response_id\`: ${stateless}`,
      param: "previous_response_id",
      code: "invalid_value",
    });
    expect(refusal({ input: "x", conversation: "conv_123" }).param).toBe("conversation");
    expect(refusal({ input: "x", conversation: { id: "conv_123" } }).param).toBe("conversation");
    expect(refusal({ input: "x", background: true }).param).toBe("background");
    expect(refusal({ input: [{ type: "item_reference", id: "msg_1" }] })).toMatchObject({
      param: "input[0].type",
      message: expect.stringContaining("Tollgate keeps no conversation state") as unknown,
    });
  });

  it("refuses files by id, saying that none are stored", () => {
    const image = refusal({ input: [user([{ type: "input_image", file_id: "file-1" }])] });
    expect(image.param).toBe("input[0].content[0].file_id");
    expect(image.message).toContain("Tollgate stores no files");
    expect(refusal({ input: [user([{ type: "input_file", file_id: "file-1" }])] }).param).toBe(
      "input[0].content[0].file_id",
    );
    expect(refusal({ input: [user([{ type: "input_file" }])] }).param).toBe("input[0].content[0].file_data");
    expect(refusal({ input: [user([{ type: "input_image", image_url: "http://example.com/a.png" }])] }).param).toBe(
      "input[0].content[0].image_url",
    );
  });

  it.each([["web_search"], ["web_search_preview"], ["file_search"], ["computer_use_preview"], ["code_interpreter"]])(
    "refuses OpenAI's built-in tool %s, saying why",
    (type) => {
      expect(refusal({ input: "x", tools: [{ type }] })).toEqual({
        message:
          `Invalid value for \`tools[0].type\`: \`${type}\` is one of OpenAI's built-in tools, which the gateway ` +
          'cannot offer across providers; declare a `type: "function"` tool with a `name` and `parameters` instead.',
        param: "tools[0].type",
        code: "invalid_value",
      });
    },
  );

  it("refuses the calls of built-in tools in the input", () => {
    const issue = refusal({ input: [{ type: "web_search_call", id: "ws_1", status: "completed" }] });
    expect(issue.param).toBe("input[0].type");
    expect(issue.message).toContain("built-in tools");
  });

  it("refuses reasoning it did not make", () => {
    const issue = refusal({
      input: [user("hi"), { type: "reasoning", summary: [], encrypted_content: "gAAAAABo-not-ours" }],
    });
    expect(issue.param).toBe("input[1].encrypted_content");
    expect(issue.message).toContain("not returned by Tollgate");
  });

  it("keeps instructions and assistant turns to text", () => {
    const image = { type: "input_image", image_url: "https://example.com/a.png" };
    expect(refusal({ input: [{ role: "system", content: [image] }] }).param).toBe("input[0].content[0].type");
    expect(refusal({ input: [{ role: "assistant", content: [image] }] }).param).toBe("input[0].content[0].type");
  });

  it("checks values with OpenAI's ranges and names the field", () => {
    expect(refusal({ input: "x", temperature: 3 }).param).toBe("temperature");
    expect(refusal({ input: "x", max_output_tokens: 0 }).param).toBe("max_output_tokens");
    expect(refusal({ input: [] }).param).toBe("input");
    expect(refusal({}).code).toBe("missing_required_parameter");
    expect(refusal({ input: [{ role: "robot", content: "x" }] }).param).toBe("input[0].role");
    expect(refusal({ input: [{ type: "function_call", call_id: "c", name: "n" }] }).param).toBe("input[0].arguments");
  });
});
