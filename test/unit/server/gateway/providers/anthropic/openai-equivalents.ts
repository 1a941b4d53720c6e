import { fixture } from "../../../../../helpers/fixtures";

/*
 * For each recorded Anthropic exchange, the OpenAI chat request a client would send to get the recorded Anthropic
 * request out of Tollgate. Long values (a prompt repeated to fill the cache, an image, a thinking signature) are taken
 * from the recording rather than restated; the structure is written out by hand. Shared by the unit tests (which
 * compare what the adapter builds with the recorded request) and the integration test (which replays the answers).
 */

type Body = Record<string, unknown>;
type AnthropicMessage = { role: string; content: Body[] };

function recordedRequest(name: string): Body {
  const body = fixture(`anthropic/${name}`).requestBody;
  if (body === null) throw new Error(`anthropic/${name} has no recorded request`);
  return body as Body;
}

function recordedMessages(name: string): AnthropicMessage[] {
  return recordedRequest(name).messages as AnthropicMessage[];
}

function recordedBlock(name: string, message: number, block: number): Body {
  const found = recordedMessages(name)[message]?.content[block];
  if (found === undefined) throw new Error(`anthropic/${name} has no block ${message}.${block}`);
  return found;
}

const familyTools = [
  {
    type: "function",
    function: {
      name: "retrieve_entity_info",
      description: "Get the knowledge about the given entity.",
      parameters: {
        additionalProperties: false,
        properties: { name: { type: "string" } },
        required: ["name"],
        type: "object",
      },
    },
  },
];

const familyCalls = [
  ["toolu_0167cfEnoQaPviGdVXA95zcu", "Alice", "alice is bob's wife"],
  ["toolu_01EEe2V5HD1Ac4rKiUR4HD2T", "Bob", "bob is alice's husband"],
  ["toolu_01XFyAjstT3966qvRynZyVPo", "Charlie", "charlie is alice's son"],
  ["toolu_013mnQZbgtK2oe3Mo3XKJsx3", "Daisy", "daisy is bob's daughter and charlie's younger sister"],
] as const;

const familySystem = recordedRequest("parallel-tool-use").system as string;

const countryTools = [
  {
    type: "function",
    function: {
      name: "get_user_country",
      description: "",
      parameters: { additionalProperties: false, properties: {}, type: "object" },
    },
  },
];

/** Requests keyed by fixture name (`anthropic/<name>`). `model` is left to the caller. */
export function openAIEquivalent(name: string): Body {
  switch (name) {
    case "text":
      return {
        max_tokens: 4096,
        messages: [
          { role: "system", content: "You are a helpful assistant.\n\n" },
          { role: "user", content: "What is the capital of France?" },
        ],
      };
    case "text-stream":
      return { max_tokens: 8192, temperature: 1, messages: [{ role: "user", content: "Say just hello" }] };
    case "parallel-tool-use":
      return {
        max_tokens: 4096,
        messages: [
          { role: "system", content: familySystem },
          { role: "user", content: "Alice, Bob, Charlie and Daisy are a family. Who is the youngest?" },
        ],
        tools: familyTools,
        tool_choice: "auto",
      };
    case "tool-result-followup":
      return {
        max_tokens: 4096,
        messages: [
          { role: "system", content: familySystem },
          { role: "user", content: "Alice, Bob, Charlie and Daisy are a family. Who is the youngest?" },
          {
            role: "assistant",
            content:
              "I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.",
            tool_calls: familyCalls.map(([id, person]) => ({
              id,
              type: "function",
              function: { name: "retrieve_entity_info", arguments: JSON.stringify({ name: person }) },
            })),
          },
          ...familyCalls.map(([id, , result]) => ({ role: "tool", tool_call_id: id, content: result })),
        ],
        tools: familyTools,
        tool_choice: "auto",
      };
    case "tool-use-stream":
      return {
        max_tokens: 8192,
        temperature: 1,
        messages: [{ role: "user", content: "Generate one name for a pet pelican" }],
        tools: [
          {
            type: "function",
            function: {
              name: "pelican_name_generator",
              description: "",
              parameters: { properties: {}, type: "object" },
            },
          },
        ],
      };
    case "thinking-stream":
      return {
        max_tokens: 8192,
        temperature: 1,
        reasoning: { max_tokens: 1024 },
        messages: [{ role: "user", content: "Two names for a pet pelican, be brief" }],
      };
    case "thinking-tool-use":
      return {
        max_tokens: 4096,
        reasoning: { max_tokens: 3000 },
        messages: [{ role: "user", content: "What is the largest city in the user country?" }],
        tools: countryTools,
        tool_choice: "auto",
      };
    case "thinking-tool-result-followup": {
      const thinking = recordedBlock(name, 1, 0);
      return {
        max_tokens: 4096,
        reasoning: { max_tokens: 3000 },
        messages: [
          { role: "user", content: "What is the largest city in the user country?" },
          {
            role: "assistant",
            content:
              "I'll help you find the largest city in your country. First, let me determine which country you're from.",
            reasoning: thinking.thinking,
            reasoning_details: [
              {
                type: "reasoning.text",
                text: thinking.thinking,
                signature: thinking.signature,
                format: "anthropic-claude-v1",
                index: 0,
              },
            ],
            tool_calls: [
              {
                id: "toolu_01YGzqpRE16Vricda3Aqcejo",
                type: "function",
                function: { name: "get_user_country", arguments: "{}" },
              },
            ],
          },
          { role: "tool", tool_call_id: "toolu_01YGzqpRE16Vricda3Aqcejo", content: "Mexico" },
        ],
        tools: countryTools,
        tool_choice: "auto",
      };
    }
    case "redacted-thinking-stream":
      return {
        max_tokens: 4096,
        reasoning: { max_tokens: 1024 },
        messages: [{ role: "user", content: recordedBlock(name, 0, 0).text }],
      };
    case "prompt-cache-read-and-write":
      return {
        max_tokens: 4096,
        cache_control: { ttl: "5m", type: "ephemeral" },
        messages: [
          { role: "system", content: "You are a helpful assistant." },
          { role: "user", content: recordedBlock(name, 0, 0).text },
          { role: "assistant", content: recordedBlock(name, 1, 0).text },
          { role: "user", content: "Can you summarize that in one sentence?" },
        ],
      };
    case "prompt-cache-write-max-tokens-stream":
    case "prompt-cache-read-max-tokens-stream":
      // Not recorded: "a ~18.6k token prefix with cache breakpoints, max_tokens: 1" (fixtures README).
      return {
        max_tokens: 1,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "A long shared prefix. ".repeat(200), cache_control: { type: "ephemeral" } },
              { type: "text", text: "Answer OK." },
            ],
          },
        ],
      };
    case "image-base64-stream": {
      const source = recordedBlock(name, 0, 0).source as { media_type: string; data: string };
      return {
        max_tokens: 8192,
        temperature: 1,
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } },
              { type: "text", text: "Describe image in three words" },
            ],
          },
        ],
      };
    }
    case "image-url":
      return {
        max_tokens: 4096,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this vegetable?" },
              {
                type: "image_url",
                image_url: {
                  url: "https://t3.ftcdn.net/jpg/00/85/79/92/360_F_85799278_0BBGV9OAdQDTLnKwAPBCcg1J7QtiieJY.jpg",
                },
              },
            ],
          },
        ],
      };
    case "json-output-format-stream":
      return {
        max_tokens: 8192,
        temperature: 1,
        messages: [{ role: "user", content: "Invent a good dog" }],
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "Dog",
            schema: ((recordedRequest(name).output_config as Body).format as Body).schema,
          },
        },
      };
    case "stop-sequence-prefill-stream":
      return {
        max_tokens: 8192,
        temperature: 1,
        stop: ["```"],
        messages: [
          { role: "user", content: "Very short function describing a pelican" },
          { role: "assistant", content: "```python" },
        ],
      };
    case "error-400-invalid-request":
      // Recorded with Anthropic's `output_config.effort`, which Tollgate does not produce: the closest OpenAI
      // request is an ordinary one; the recorded error is what this fixture is about.
      return { max_tokens: 4096, messages: [{ role: "user", content: "What is 2+2?" }] };
    case "error-404-not-found":
      return { max_tokens: 4096, messages: [{ role: "user", content: "hello" }] };
    case "stream-error-overloaded":
      return { max_tokens: 8192, temperature: 1, messages: [{ role: "user", content: "Say just hello" }] };
    default:
      throw new Error(`No OpenAI equivalent written for anthropic/${name}`);
  }
}

/**
 * The recorded request as Tollgate is expected to produce it: fields the recording's client added that mean the same
 * as their absence (`is_error: false` on tool results) are removed, and fields of the recording that have no OpenAI
 * equivalent (listed per fixture) are left out of the comparison.
 */
export function expectedAnthropicRequest(name: string): Body {
  const recorded = structuredClone(recordedRequest(name));
  for (const message of recorded.messages as AnthropicMessage[]) {
    for (const block of message.content)
      if (block.type === "tool_result" && block.is_error === false) delete block.is_error;
  }
  if (name === "error-400-invalid-request") delete recorded.output_config;
  return recorded;
}
