/** What the playground sends: an OpenAI chat completion request built from its settings and one pane's turns. */

export const REASONING_EFFORT_CHOICES = ["low", "medium", "high"] as const;
export type ReasoningEffortChoice = (typeof REASONING_EFFORT_CHOICES)[number];

export interface PlaygroundSettings {
  systemPrompt: string;
  /** Null leaves the model's default. */
  temperature: number | null;
  maxTokens: number | null;
  /** Null sends no reasoning request (the model's default). */
  reasoningEffort: ReasoningEffortChoice | null;
  jsonMode: boolean;
}

export const DEFAULT_SETTINGS: PlaygroundSettings = {
  systemPrompt: "",
  temperature: null,
  maxTokens: null,
  reasoningEffort: null,
  jsonMode: false,
};

export interface Turn {
  role: "user" | "assistant";
  content: string;
}

export interface ChatRequestBody {
  model: string;
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  stream: true;
  stream_options: { include_usage: true };
  temperature?: number;
  max_tokens?: number;
  reasoning?: { effort: ReasoningEffortChoice };
  response_format?: { type: "json_object" };
}

/**
 * The request for the next answer. Answers that came back empty (stopped before a word, or failed) are left out, so a
 * retry does not show the model a blank reply of its own. JSON mode needs the word "JSON" in the prompt with OpenAI's
 * models, which refuse it otherwise; the playground leaves that to the person writing the prompt, as the API does.
 */
export function buildChatRequest(
  modelId: string,
  settings: PlaygroundSettings,
  turns: readonly Turn[],
): ChatRequestBody {
  const system = settings.systemPrompt.trim();
  const body: ChatRequestBody = {
    model: modelId,
    messages: [
      ...(system === "" ? [] : [{ role: "system" as const, content: system }]),
      ...turns.filter((turn) => turn.content !== "").map((turn) => ({ role: turn.role, content: turn.content })),
    ],
    stream: true,
    stream_options: { include_usage: true },
  };
  if (settings.temperature !== null) body.temperature = settings.temperature;
  if (settings.maxTokens !== null) body.max_tokens = settings.maxTokens;
  if (settings.reasoningEffort !== null) body.reasoning = { effort: settings.reasoningEffort };
  if (settings.jsonMode) body.response_format = { type: "json_object" };
  return body;
}
