import { computeCostNano, ZERO_USAGE, type TokenPrices, type TokenUsage } from "./compute-cost";
import { countCompletionTokens } from "./estimate-tokens";

/** Generated text the client received, kept for counting when the upstream reports no usage. */
export interface EmittedText {
  /** Content and tool-call arguments. */
  text: string[];
  /** Reasoning (thinking) text. */
  reasoning: string[];
}

export function noEmittedText(): EmittedText {
  return { text: [], reasoning: [] };
}

/** Adds what one message or delta carries (OpenAI's fields, plus `reasoning`/`reasoning_content` for thinking). */
export function collectEmittedText(emitted: EmittedText, message: Record<string, unknown>): void {
  if (typeof message.content === "string" && message.content !== "") emitted.text.push(message.content);
  if (typeof message.refusal === "string" && message.refusal !== "") emitted.text.push(message.refusal);
  for (const field of ["reasoning", "reasoning_content"] as const) {
    const value = message[field];
    if (typeof value === "string" && value !== "") emitted.reasoning.push(value);
  }
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
      if (typeof call.function?.name === "string") emitted.text.push(call.function.name);
      if (typeof call.function?.arguments === "string") emitted.text.push(call.function.arguments);
    }
  }
}

export type BillingStatus = "exact" | "estimated" | "void";

export interface MeterInput {
  /** Usage the upstream reported, if any (for a fan-out, the sum of the copies that reported). */
  reported: TokenUsage | null;
  /** The upstream finished the answer (a stream reached its finish); false for a cut or abandoned stream. */
  completed: boolean;
  /**
   * `reported` is the gateway's own count, not the upstream's: a finished call whose upstream reports no usage (an
   * embeddings provider that gives no token count). Billed like a reported one, marked `estimated`.
   */
  estimated?: boolean;
  emitted: EmittedText;
  /** The gateway's own count of the prompt, times the upstream calls made for it. */
  promptTokens: number;
  imageCount: number;
  prices: TokenPrices;
}

export interface Metered {
  usage: TokenUsage;
  billingStatus: BillingStatus;
  costNano: bigint;
}

/**
 * What a call is billed for. A finished call with the upstream's usage is `exact`. A call that produced nothing (the
 * upstream refused it, or the client left before any token) is `void` and free. Anything else (the client cut the
 * stream, the upstream died mid-answer, or never reported usage) is `estimated`: the upstream's figures where it
 * gave them, otherwise the tokenizer's count of the prompt and of what was actually sent to the client.
 */
export function meterCall(input: MeterInput): Metered {
  const { reported, emitted } = input;
  if (reported !== null && input.completed) {
    const billingStatus = input.estimated === true ? "estimated" : "exact";
    return { usage: reported, billingStatus, costNano: price(reported, input) };
  }
  const producedNothing =
    emitted.text.length === 0 && emitted.reasoning.length === 0 && (reported?.completionTokens ?? 0) === 0;
  if (producedNothing) return { usage: ZERO_USAGE, billingStatus: "void", costNano: 0n };

  const reasoningTokens = Math.max(reported?.reasoningTokens ?? 0, countCompletionTokens(emitted.reasoning));
  const countedCompletion = countCompletionTokens(emitted.text) + countCompletionTokens(emitted.reasoning);
  const usage: TokenUsage = {
    promptTokens: reported !== null && reported.promptTokens > 0 ? reported.promptTokens : input.promptTokens,
    completionTokens: Math.max(reported?.completionTokens ?? 0, countedCompletion),
    cachedTokens: reported?.cachedTokens ?? 0,
    cacheWriteTokens: reported?.cacheWriteTokens ?? 0,
    reasoningTokens,
    upstreamCostNano: reported?.upstreamCostNano ?? null,
  };
  return { usage, billingStatus: "estimated", costNano: price(usage, input) };
}

function price(usage: TokenUsage, input: MeterInput): bigint {
  return computeCostNano(usage, input.prices, { imageCount: input.imageCount });
}
