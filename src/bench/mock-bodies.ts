/**
 * What the mock upstream answers: the shape of a real OpenAI chat completion (recorded fixture
 * ../shared/fixtures/upstream/openai/text.response.json) and of its stream with `include_usage`.
 */

export const MOCK_API_KEY = "bench-key";
export const MOCK_COMPLETION_CONTENT = "The capital of France is Paris.";
const UPSTREAM_ID = "chatcmpl-BJjf61mLb9z5H45ClJzbx0UWKwjo1";
const UPSTREAM_MODEL = "gpt-4.1-mini-2025-04-14";
const CREATED = 1744043456;
const PROMPT_TOKENS = 24;

const STREAM_WORDS = [
  "The",
  " capital",
  " of",
  " France",
  " is",
  " Paris",
  ",",
  " a",
  " city",
  " on",
  " the",
  " Seine",
  ".",
];

export function completionBody(): string {
  return JSON.stringify({
    id: UPSTREAM_ID,
    object: "chat.completion",
    created: CREATED,
    model: UPSTREAM_MODEL,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: MOCK_COMPLETION_CONTENT, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: {
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: 8,
      total_tokens: PROMPT_TOKENS + 8,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: "default",
    system_fingerprint: "fp_898ac29719",
  });
}

/** The content a stream of `chunks` content chunks spells out. */
export function streamedContent(chunks: number): string {
  let content = "";
  for (let index = 0; index < chunks; index++) content += STREAM_WORDS[index % STREAM_WORDS.length]!;
  return content;
}

function chunkEvent(choices: unknown[], usage: unknown): string {
  const chunk = {
    id: UPSTREAM_ID,
    object: "chat.completion.chunk",
    created: CREATED,
    model: UPSTREAM_MODEL,
    service_tier: "default",
    system_fingerprint: "fp_cbf1785567",
    choices,
    usage,
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/**
 * The SSE events of one streamed answer, each to be written separately: `chunks` content chunks (the first also
 * carries the role), a finish chunk, the `choices: []` usage chunk that `include_usage` asks for, and `[DONE]`.
 */
export function streamEvents(chunks: number): string[] {
  const events: string[] = [];
  for (let index = 0; index < chunks; index++) {
    const content = STREAM_WORDS[index % STREAM_WORDS.length]!;
    const delta = index === 0 ? { role: "assistant", content, refusal: null } : { content };
    events.push(chunkEvent([{ index: 0, delta, logprobs: null, finish_reason: null }], null));
  }
  events.push(chunkEvent([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], null));
  events.push(
    chunkEvent([], {
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: chunks,
      total_tokens: PROMPT_TOKENS + chunks,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    }),
  );
  events.push("data: [DONE]\n\n");
  return events;
}

/** The request body the load drivers send, straight to the mock and through the gateway alike. */
export function chatRequestBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "What is the capital of France?" },
    ],
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}
