/*
 * Every code sample of the docs, as functions of the deployment's base URL and the models a page suggests. The test
 * suite runs each curl and JavaScript sample against the demo model (and checks the Python ones parse), so what a
 * page shows is code that works, not prose that drifts.
 */

export type SnippetLanguage = "curl" | "python" | "javascript" | "ai-sdk" | "langchain";

export const LANGUAGE_LABELS: Record<SnippetLanguage, string> = {
  curl: "curl",
  python: "Python",
  javascript: "JavaScript",
  "ai-sdk": "Vercel AI SDK",
  langchain: "LangChain",
};

export interface SnippetContext {
  /** `https://host/v1` */
  baseUrl: string;
  /** A chat model to show. */
  model: string;
  /** A second model, for fallbacks. */
  fallbackModel: string;
  /** A provider slug that serves `model`. */
  provider: string;
  /** An embedding model. */
  embeddingModel: string;
}

export type TopicSnippets = Partial<Record<SnippetLanguage, (context: SnippetContext) => string>>;

const origin = (context: SnippetContext) => context.baseUrl.replace(/\/v1$/, "");
const lines = (...text: string[]) => text.join("\n");

/** The client set-up every openai-SDK sample starts with. */
const pythonClient = (context: SnippetContext) =>
  lines(
    "import os",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url="${context.baseUrl}", api_key=os.environ["TOLLGATE_API_KEY"])`,
  );
const javascriptClient = (context: SnippetContext) =>
  lines(
    'import OpenAI from "openai";',
    "",
    `const client = new OpenAI({ baseURL: "${context.baseUrl}", apiKey: process.env.TOLLGATE_API_KEY });`,
  );
const aiSdkProvider = (context: SnippetContext) =>
  lines(
    "const tollgate = createOpenAICompatible({",
    '  name: "tollgate",',
    `  baseURL: "${context.baseUrl}",`,
    "  apiKey: process.env.TOLLGATE_API_KEY,",
    "  includeUsage: true,",
    "});",
  );
const langchainModel = (context: SnippetContext) =>
  lines(
    'import { ChatOpenAI } from "@langchain/openai";',
    "",
    "const model = new ChatOpenAI({",
    `  model: "${context.model}",`,
    "  apiKey: process.env.TOLLGATE_API_KEY,",
    `  configuration: { baseURL: "${context.baseUrl}" },`,
    "});",
  );
const curlPost = (context: SnippetContext, path: string, body: string) =>
  lines(
    `curl ${context.baseUrl}${path} \\`,
    '  -H "Authorization: Bearer $TOLLGATE_API_KEY" \\',
    '  -H "Content-Type: application/json" \\',
    `  -d '${body}'`,
  );

const QUICKSTART: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "messages": [{"role": "user", "content": "Say hello in five words."}]}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "Say hello in five words."}],',
      ")",
      "print(completion.choices[0].message.content)",
      'print("cost in USD:", completion.usage.cost)',
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const completion = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      '  messages: [{ role: "user", content: "Say hello in five words." }],',
      "});",
      "console.log(completion.choices[0].message.content);",
      'console.log("cost in USD:", completion.usage.cost);',
    ),
  "ai-sdk": (context) =>
    lines(
      'import { createOpenAICompatible } from "@ai-sdk/openai-compatible";',
      'import { generateText } from "ai";',
      "",
      aiSdkProvider(context),
      "const { text, usage } = await generateText({",
      `  model: tollgate("${context.model}"),`,
      '  prompt: "Say hello in five words.",',
      "});",
      "console.log(text, usage);",
    ),
  langchain: (context) =>
    lines(
      langchainModel(context),
      'const answer = await model.invoke("Say hello in five words.");',
      "console.log(answer.content);",
    ),
};

const STREAMING: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Count to ten."}]}`,
    ).replace("curl ", "curl -N "),
  python: (context) =>
    lines(
      pythonClient(context),
      "stream = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "Count to ten."}],',
      "    stream=True,",
      '    stream_options={"include_usage": True},',
      ")",
      "for chunk in stream:",
      "    if chunk.choices and chunk.choices[0].delta.content:",
      '        print(chunk.choices[0].delta.content, end="", flush=True)',
      "    if chunk.usage:",
      '        print("\\ncost in USD:", chunk.usage.cost)',
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const stream = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      '  messages: [{ role: "user", content: "Count to ten." }],',
      "  stream: true,",
      "  stream_options: { include_usage: true },",
      "});",
      "for await (const chunk of stream) {",
      '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
      '  if (chunk.usage) console.log("\\ncost in USD:", chunk.usage.cost);',
      "}",
    ),
  "ai-sdk": (context) =>
    lines(
      'import { createOpenAICompatible } from "@ai-sdk/openai-compatible";',
      'import { streamText } from "ai";',
      "",
      aiSdkProvider(context),
      "const result = streamText({",
      `  model: tollgate("${context.model}"),`,
      '  prompt: "Count to ten.",',
      "});",
      "for await (const text of result.textStream) process.stdout.write(text);",
      "console.log(await result.usage);",
    ),
  langchain: (context) =>
    lines(
      langchainModel(context),
      'for await (const chunk of await model.stream("Count to ten.")) process.stdout.write(String(chunk.content));',
    ),
};

const WEATHER_TOOL_JSON =
  '{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}';

const TOOLS: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "messages": [{"role": "user", "content": "What is the weather in Paris?"}], "tools": [${WEATHER_TOOL_JSON}]}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "tools = [{",
      '    "type": "function",',
      '    "function": {',
      '        "name": "get_weather",',
      '        "description": "Current weather in a city",',
      '        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},',
      "    },",
      "}]",
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "What is the weather in Paris?"}],',
      "    tools=tools,",
      ")",
      "message = completion.choices[0].message",
      "for call in message.tool_calls or []:",
      "    print(call.function.name, call.function.arguments)",
      "print(message.content)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const tools = [",
      "  {",
      '    type: "function",',
      "    function: {",
      '      name: "get_weather",',
      '      description: "Current weather in a city",',
      '      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },',
      "    },",
      "  },",
      "];",
      "const completion = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      '  messages: [{ role: "user", content: "What is the weather in Paris?" }],',
      "  tools,",
      "});",
      "const message = completion.choices[0].message;",
      "for (const call of message.tool_calls ?? []) console.log(call.function.name, call.function.arguments);",
      "console.log(message.content);",
    ),
  "ai-sdk": (context) =>
    lines(
      'import { createOpenAICompatible } from "@ai-sdk/openai-compatible";',
      'import { generateText, tool } from "ai";',
      'import { z } from "zod";',
      "",
      aiSdkProvider(context),
      "const result = await generateText({",
      `  model: tollgate("${context.model}"),`,
      '  prompt: "What is the weather in Paris?",',
      "  tools: {",
      "    get_weather: tool({",
      '      description: "Current weather in a city",',
      "      inputSchema: z.object({ city: z.string() }),",
      '      execute: async ({ city }) => ({ city, temperatureC: 18, sky: "cloudy" }),',
      "    }),",
      "  },",
      "});",
      "console.log(result.toolCalls, result.text);",
    ),
};

const STRUCTURED_OUTPUTS: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "messages": [{"role": "user", "content": "Name a city and its country."}], "response_format": {"type": "json_schema", "json_schema": {"name": "place", "strict": true, "schema": {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}}, "required": ["city", "country"], "additionalProperties": false}}}}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "schema = {",
      '    "type": "object",',
      '    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},',
      '    "required": ["city", "country"],',
      '    "additionalProperties": False,',
      "}",
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "Name a city and its country."}],',
      '    response_format={"type": "json_schema", "json_schema": {"name": "place", "strict": True, "schema": schema}},',
      ")",
      "# The answer is a JSON string that follows the schema: json.loads() it.",
      "print(completion.choices[0].message.content)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const schema = {",
      '  type: "object",',
      '  properties: { city: { type: "string" }, country: { type: "string" } },',
      '  required: ["city", "country"],',
      "  additionalProperties: false,",
      "};",
      "const completion = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      '  messages: [{ role: "user", content: "Name a city and its country." }],',
      '  response_format: { type: "json_schema", json_schema: { name: "place", strict: true, schema } },',
      "});",
      "// The answer is a JSON string that follows the schema: JSON.parse() it.",
      "console.log(completion.choices[0].message.content);",
    ),
};

const IMAGE_URL = "https://upload.wikimedia.org/wikipedia/commons/3/3f/Fronalpstock_big.jpg";

const VISION: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"}, {"type": "image_url", "image_url": {"url": "${IMAGE_URL}"}}]}]}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      "    messages=[{",
      '        "role": "user",',
      '        "content": [',
      '            {"type": "text", "text": "What is in this picture?"},',
      `            {"type": "image_url", "image_url": {"url": "${IMAGE_URL}"}},`,
      "        ],",
      "    }],",
      ")",
      "print(completion.choices[0].message.content)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const completion = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      "  messages: [",
      "    {",
      '      role: "user",',
      "      content: [",
      '        { type: "text", text: "What is in this picture?" },',
      `        { type: "image_url", image_url: { url: "${IMAGE_URL}" } },`,
      "      ],",
      "    },",
      "  ],",
      "});",
      "console.log(completion.choices[0].message.content);",
    ),
};

const REASONING: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "reasoning": {"effort": "low"}, "messages": [{"role": "user", "content": "Is 1001 prime?"}]}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "Is 1001 prime?"}],',
      '    extra_body={"reasoning": {"effort": "low"}},',
      ")",
      "message = completion.choices[0].message",
      'print(getattr(message, "reasoning", None))',
      "print(message.content)",
      "print(completion.usage.completion_tokens_details)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const completion = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      '  messages: [{ role: "user", content: "Is 1001 prime?" }],',
      '  reasoning: { effort: "low" },',
      "});",
      "const message = completion.choices[0].message;",
      "console.log(message.reasoning, message.content);",
      "console.log(completion.usage.completion_tokens_details);",
    ),
};

const ROUTING: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "models": ["${context.model}", "${context.fallbackModel}"], "provider": {"order": ["${context.provider}"], "allow_fallbacks": true}, "messages": [{"role": "user", "content": "Hello!"}]}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "Hello!"}],',
      "    extra_body={",
      `        "models": ["${context.model}", "${context.fallbackModel}"],`,
      `        "provider": {"order": ["${context.provider}"], "allow_fallbacks": True},`,
      "    },",
      ")",
      "print(completion.model, completion.choices[0].message.content)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const { data: completion, response } = await client.chat.completions",
      "  .create({",
      `    model: "${context.model}",`,
      `    models: ["${context.model}", "${context.fallbackModel}"],`,
      `    provider: { order: ["${context.provider}"], allow_fallbacks: true },`,
      '    messages: [{ role: "user", content: "Hello!" }],',
      "  })",
      "  .withResponse();",
      "// Which model and provider answered, and after how many attempts:",
      'console.log(completion.model, response.headers.get("x-tollgate-provider"), response.headers.get("x-tollgate-attempts"));',
    ),
};

const USAGE_AND_COST: TopicSnippets = {
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const completion = await client.chat.completions.create({",
      `  model: "${context.model}",`,
      '  messages: [{ role: "user", content: "Hello!" }],',
      "});",
      "console.log(completion.usage); // prompt_tokens, completion_tokens, cost (USD), token details",
      "",
      "// The same call later, by its id: tokens, cost, latency, provider, each attempt.",
      `const generation = await fetch(\`${context.baseUrl}/generation?id=\${completion.id}\`, {`,
      "  headers: { Authorization: `Bearer ${process.env.TOLLGATE_API_KEY}` },",
      "}).then((response) => response.json());",
      "console.log(generation.data);",
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "completion = client.chat.completions.create(",
      `    model="${context.model}",`,
      '    messages=[{"role": "user", "content": "Hello!"}],',
      ")",
      "print(completion.usage)",
    ),
};

const ACCOUNT: TopicSnippets = {
  curl: (context) =>
    lines(
      "# The account's balance and what calls in flight hold",
      `curl ${context.baseUrl}/credits -H "Authorization: Bearer $TOLLGATE_API_KEY"`,
      "# This key: spend per period, limit, allowed models",
      `curl ${context.baseUrl}/key -H "Authorization: Bearer $TOLLGATE_API_KEY"`,
      "# Spend per day, model and provider over the last 30 days",
      `curl ${context.baseUrl}/activity -H "Authorization: Bearer $TOLLGATE_API_KEY"`,
    ),
};

const MODELS: TopicSnippets = {
  curl: (context) =>
    lines(
      "# The public catalog: every model with its prices, no key needed",
      `curl ${origin(context)}/api/v1/models`,
      "# The models this key may use (OpenAI's list)",
      `curl ${context.baseUrl}/models -H "Authorization: Bearer $TOLLGATE_API_KEY"`,
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "for await (const model of client.models.list()) console.log(model.id, model.pricing_per_million_usd);",
    ),
};

const ERRORS: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "no-such/model", "messages": [{"role": "user", "content": "Hello!"}]}`,
    ),
  python: (context) =>
    lines(
      "import openai",
      pythonClient(context),
      "try:",
      "    client.chat.completions.create(",
      '        model="no-such/model", messages=[{"role": "user", "content": "Hello!"}]',
      "    )",
      "except openai.APIStatusError as error:",
      "    print(error.status_code, error.body)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "try {",
      "  await client.chat.completions.create({",
      '    model: "no-such/model",',
      '    messages: [{ role: "user", content: "Hello!" }],',
      "  });",
      "} catch (error) {",
      "  if (!(error instanceof OpenAI.APIError)) throw error;",
      "  console.log(error.status, error.type, error.code, error.message);",
      "}",
    ),
};

const RATE_LIMITS: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/chat/completions",
      `{"model": "${context.model}", "messages": [{"role": "user", "content": "Hello!"}]}`,
    ).replace("curl ", "curl -sS -D - -o /dev/null "),
};

const MESSAGES: TopicSnippets = {
  curl: (context) =>
    lines(
      `curl ${context.baseUrl}/messages \\`,
      '  -H "x-api-key: $TOLLGATE_API_KEY" \\',
      '  -H "anthropic-version: 2023-06-01" \\',
      '  -H "Content-Type: application/json" \\',
      `  -d '{"model": "${context.model}", "max_tokens": 256, "messages": [{"role": "user", "content": "Hello!"}]}'`,
    ),
  python: (context) =>
    lines(
      "import os",
      "import anthropic",
      "",
      `client = anthropic.Anthropic(base_url="${origin(context)}", api_key=os.environ["TOLLGATE_API_KEY"])`,
      "message = client.messages.create(",
      `    model="${context.model}",`,
      "    max_tokens=256,",
      '    messages=[{"role": "user", "content": "Hello!"}],',
      ")",
      "print(message.content[0].text)",
    ),
  javascript: (context) =>
    lines(
      'import Anthropic from "@anthropic-ai/sdk";',
      "",
      `const client = new Anthropic({ baseURL: "${origin(context)}", apiKey: process.env.TOLLGATE_API_KEY });`,
      "const message = await client.messages.create({",
      `  model: "${context.model}",`,
      "  max_tokens: 256,",
      '  messages: [{ role: "user", content: "Hello!" }],',
      "});",
      "console.log(message.content[0].text, message.usage);",
    ),
};

const RESPONSES: TopicSnippets = {
  curl: (context) =>
    curlPost(context, "/responses", `{"model": "${context.model}", "input": "Say hello in five words."}`),
  python: (context) =>
    lines(
      pythonClient(context),
      `response = client.responses.create(model="${context.model}", input="Say hello in five words.")`,
      "print(response.output_text)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const response = await client.responses.create({",
      `  model: "${context.model}",`,
      '  input: "Say hello in five words.",',
      "});",
      "console.log(response.output_text);",
    ),
};

const EMBEDDINGS: TopicSnippets = {
  curl: (context) =>
    curlPost(
      context,
      "/embeddings",
      `{"model": "${context.embeddingModel}", "input": ["first document", "second document"]}`,
    ),
  python: (context) =>
    lines(
      pythonClient(context),
      "result = client.embeddings.create(",
      `    model="${context.embeddingModel}",`,
      '    input=["first document", "second document"],',
      ")",
      "print(len(result.data), len(result.data[0].embedding), result.usage)",
    ),
  javascript: (context) =>
    lines(
      javascriptClient(context),
      "const result = await client.embeddings.create({",
      `  model: "${context.embeddingModel}",`,
      '  input: ["first document", "second document"],',
      "});",
      "console.log(result.data.length, result.data[0].embedding.length, result.usage);",
    ),
};

export const DOC_SNIPPETS = {
  quickstart: QUICKSTART,
  streaming: STREAMING,
  tools: TOOLS,
  "structured-outputs": STRUCTURED_OUTPUTS,
  vision: VISION,
  reasoning: REASONING,
  routing: ROUTING,
  "usage-and-cost": USAGE_AND_COST,
  account: ACCOUNT,
  models: MODELS,
  errors: ERRORS,
  "rate-limits": RATE_LIMITS,
  messages: MESSAGES,
  responses: RESPONSES,
  embeddings: EMBEDDINGS,
} satisfies Record<string, TopicSnippets>;

export type SnippetTopic = keyof typeof DOC_SNIPPETS;

/** A topic's samples for a page, in the tab order people expect. */
export function renderSnippets(topic: SnippetTopic, context: SnippetContext): { label: string; code: string }[] {
  const snippets: TopicSnippets = DOC_SNIPPETS[topic];
  return (Object.keys(LANGUAGE_LABELS) as SnippetLanguage[]).flatMap((language) => {
    const render = snippets[language];
    return render === undefined ? [] : [{ label: LANGUAGE_LABELS[language], code: render(context) }];
  });
}
