/** OpenAI's response shapes, as the gateway emits them (loose: providers add fields we pass on). */
export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number; [key: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [key: string]: unknown };
  /** Gateway extension: what this call cost, in USD. */
  cost?: number;
  [key: string]: unknown;
}

export interface ChatCompletionChoice {
  index: number;
  message: Record<string, unknown>;
  finish_reason: string | null;
  logprobs: unknown;
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: ChatCompletionUsage | null;
  [key: string]: unknown;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: Record<string, unknown>;
  finish_reason: string | null;
  logprobs?: unknown;
  [key: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  usage?: ChatCompletionUsage | null;
  /** Present only on the in-band error chunk that ends a failed stream. */
  error?: { message: string; type: string; code: string | null };
  [key: string]: unknown;
}
