import { countTokens } from "gpt-tokenizer";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";

/**
 * Token counts the gateway makes itself, with OpenAI's o200k tokenizer: for the worst-case hold before a call, and
 * for the bill of a call whose upstream reported no usage (a cut stream, a provider that omits it). Other providers'
 * tokenizers differ by some percent; the hold adds a margin for that.
 */

/** OpenAI's published accounting for chat prompts: 3 tokens per message plus 3 to prime the reply. */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;
/** What one image costs at most among the providers served (Anthropic's ~1.15 megapixel cap is about 1,600). */
export const TOKENS_PER_IMAGE = 1_600;
/** Audio and files travel base64-encoded; one token per four characters over-counts, which suits a bound. */
const BASE64_CHARS_PER_TOKEN = 4;

export interface PromptMeasure {
  /** Best estimate of the prompt's tokens. */
  tokens: number;
  /** Input images (per-image fees). */
  imageCount: number;
}

function countText(text: string): number {
  return text === "" ? 0 : countTokens(text);
}

/**
 * Remembers the token counts of texts seen recently. Clients send the whole conversation on every turn, and the same
 * system prompt and tool definitions on every call: each text is tokenized once rather than on every call that
 * repeats it, which for a long conversation is most of the work. Two generations of at most `maxChars` characters
 * each: when the newer fills up it becomes the older and the older is dropped, so what is still in use stays (a hit
 * in the older generation moves the text to the newer) and memory stays bounded without bookkeeping per entry.
 */
export function createTokenCountMemo(count: (text: string) => number, maxChars: number): (text: string) => number {
  let newer = new Map<string, number>();
  let older = new Map<string, number>();
  let newerChars = 0;
  return (text) => {
    const known = newer.get(text);
    if (known !== undefined) return known;
    const tokens = older.get(text) ?? count(text);
    if (text.length > maxChars) return tokens;
    if (newerChars + text.length > maxChars) {
      older = newer;
      newer = new Map();
      newerChars = 0;
    }
    newer.set(text, tokens);
    newerChars += text.length;
    return tokens;
  };
}

/** Up to twice this many characters of prompt text are kept with their counts (a few MB). */
const PROMPT_MEMO_CHARS = 2_000_000;
const countPromptText = createTokenCountMemo(countText, PROMPT_MEMO_CHARS);

/** Tokens of the prompt as the upstream will see it: messages, tool definitions and the response schema. */
export function measurePrompt(request: ChatCompletionRequest): PromptMeasure {
  let tokens = REPLY_PRIMING_TOKENS;
  let imageCount = 0;
  for (const message of request.messages) {
    tokens += TOKENS_PER_MESSAGE;
    const content = "content" in message ? message.content : null;
    if (typeof content === "string") {
      tokens += countPromptText(content);
    } else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === "text") tokens += countPromptText(part.text);
        else if (part.type === "refusal") tokens += countPromptText(part.refusal);
        else if (part.type === "image_url") {
          imageCount += 1;
          tokens += TOKENS_PER_IMAGE;
        } else if (part.type === "input_audio") {
          tokens += Math.ceil(part.input_audio.data.length / BASE64_CHARS_PER_TOKEN);
        } else if (part.type === "file") {
          tokens += Math.ceil((part.file.file_data ?? "").length / BASE64_CHARS_PER_TOKEN);
        }
      }
    }
    if (message.role === "assistant") {
      for (const call of message.tool_calls ?? []) {
        tokens += countPromptText(call.function.name) + countPromptText(call.function.arguments);
      }
    }
  }
  // Definitions are sent in a provider-specific form; their JSON is a fair measure of it.
  if (request.tools != null && request.tools.length > 0) tokens += countPromptText(JSON.stringify(request.tools));
  if (request.response_format != null && request.response_format.type === "json_schema") {
    tokens += countPromptText(JSON.stringify(request.response_format));
  }
  return { tokens, imageCount };
}

/**
 * Tokens of the inputs of an embeddings request: each text counted with the tokenizer (not remembered: documents to
 * embed rarely repeat, and would push out the prompts that do), token ids counted exactly.
 */
export function measureEmbeddingInput(inputs: readonly (string | readonly number[])[]): PromptMeasure {
  let tokens = 0;
  for (const input of inputs) tokens += typeof input === "string" ? countText(input) : input.length;
  return { tokens, imageCount: 0 };
}

/** Tokens of text the upstream produced (content, reasoning, tool-call arguments), joined. */
export function countCompletionTokens(pieces: readonly string[]): number {
  return pieces.length === 0 ? 0 : countText(pieces.join(""));
}

/** The prompt bound for a hold: the estimate plus a quarter for tokenizers that split text finer than o200k. */
export function promptTokenBound(measure: PromptMeasure): number {
  return Math.ceil((measure.tokens * 5) / 4) + 16;
}
