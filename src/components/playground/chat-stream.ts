import { createParser } from "eventsource-parser";

/** One answer's tokens and price, as the gateway reported them in the stream's last chunk. */
export interface AnswerUsage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  /** USD, as `usage.cost`. */
  cost: number;
}

/** An answer as it arrives: each update replaces the last (a new object, so React sees the change). */
export interface StreamedAnswer {
  content: string;
  reasoning: string;
  finishReason: string | null;
  usage: AnswerUsage | null;
  generationId: string | null;
  provider: string | null;
  /** Parameters the provider does not take, which the gateway left out (`x-tollgate-dropped-parameters`). */
  droppedParameters: string[];
  error: string | null;
  /** Ended by the stop button. */
  stopped: boolean;
  done: boolean;
}

export function emptyAnswer(): StreamedAnswer {
  return {
    content: "",
    reasoning: "",
    finishReason: null,
    usage: null,
    generationId: null,
    provider: null,
    droppedParameters: [],
    error: null,
    stopped: false,
    done: false,
  };
}

interface ChunkUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  cost?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

interface Chunk {
  error?: { message?: string };
  choices?: {
    delta?: { content?: string | null; reasoning?: string | null; reasoning_content?: string | null };
    message?: { content?: string | null; reasoning?: string | null };
    finish_reason?: string | null;
  }[];
  usage?: ChunkUsage | null;
}

function usageOf(usage: ChunkUsage): AnswerUsage {
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cost: usage.cost ?? 0,
  };
}

/** Folds one chunk (or a whole non-streamed completion) into the answer. */
function apply(answer: StreamedAnswer, chunk: Chunk): StreamedAnswer {
  const next = { ...answer };
  if (chunk.error !== undefined) next.error = chunk.error.message ?? "The provider failed.";
  const choice = chunk.choices?.[0];
  const text = choice?.delta ?? choice?.message;
  if (text?.content) next.content += text.content;
  const reasoning = text?.reasoning ?? (choice?.delta?.reasoning_content || undefined);
  if (reasoning) next.reasoning += reasoning;
  if (choice?.finish_reason) next.finishReason = choice.finish_reason;
  if (chunk.usage) next.usage = usageOf(chunk.usage);
  return next;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

async function errorMessageOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (typeof body.error?.message === "string") return body.error.message;
  } catch {
    // Not JSON: fall through to the status.
  }
  return `The request failed (HTTP ${response.status}).`;
}

/**
 * Reads the gateway's answer to a playground request: server-sent events chunk by chunk (or one JSON completion), an
 * OpenAI-shaped error as its message. An abort (the stop button) ends it as stopped, keeping what arrived.
 */
export async function readChatStream(
  response: Response,
  onUpdate: (answer: StreamedAnswer) => void,
): Promise<StreamedAnswer> {
  let answer: StreamedAnswer = {
    ...emptyAnswer(),
    generationId: response.headers.get("x-generation-id"),
    provider: response.headers.get("x-tollgate-provider"),
    droppedParameters: (response.headers.get("x-tollgate-dropped-parameters") ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
  };
  const update = (next: StreamedAnswer) => {
    answer = next;
    onUpdate(answer);
  };
  if (!response.ok) {
    update({ ...answer, error: await errorMessageOf(response), done: true });
    return answer;
  }
  try {
    if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
      update({ ...apply(answer, (await response.json()) as Chunk), done: true });
      return answer;
    }
    const parser = createParser({
      onEvent(event) {
        if (event.data === "[DONE]") return;
        update(apply(answer, JSON.parse(event.data) as Chunk));
      },
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    update({ ...answer, done: true });
  } catch (error) {
    if (isAbort(error)) update({ ...answer, stopped: true, done: true });
    else update({ ...answer, error: "The connection was lost before the answer ended.", done: true });
  }
  return answer;
}
