import type { ChatCompletionRequest } from "../../protocol/chat-completion-request";

/** OpenRouter's `reasoning_details` format marker for Anthropic's signed thinking. */
export const REASONING_FORMAT = "anthropic-claude-v1";

/** The model-id suffix that turns thinking on (`claude-sonnet-4-5-thinking`), as some catalogs name such variants. */
export const THINKING_SUFFIX = "-thinking";

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/** The share of `max_tokens` given to thinking for each effort (OpenRouter's ratios). */
const EFFORT_SHARE: Record<string, number> = {
  minimal: 0.1,
  low: 0.2,
  medium: 0.5,
  high: 0.8,
  xhigh: 0.95,
};

const DEFAULT_EFFORT = "medium";

export interface ThinkingConfig {
  type: "enabled";
  budget_tokens: number;
}

/**
 * Whether and how hard the model should think, from `reasoning_effort`, OpenRouter's `reasoning` object or a
 * `-thinking` model suffix. An explicit `reasoning.max_tokens` is the budget; an effort is a share of `max_tokens`.
 * Either way the budget is at least Anthropic's minimum of 1024 tokens.
 */
export function thinkingFor(
  request: ChatCompletionRequest,
  maxTokens: number,
  thinkingModel: boolean,
): ThinkingConfig | null {
  const reasoning = request.reasoning;
  const effort = reasoning?.effort ?? request.reasoning_effort ?? null;
  if (reasoning?.enabled === false || effort === "none") return null;
  const budgetFromRequest = reasoning?.max_tokens ?? null;
  const wanted = thinkingModel || effort !== null || budgetFromRequest !== null || reasoning?.enabled === true;
  if (!wanted) return null;
  const budget =
    budgetFromRequest ?? Math.floor(maxTokens * (EFFORT_SHARE[effort ?? DEFAULT_EFFORT] ?? EFFORT_SHARE.medium!));
  return { type: "enabled", budget_tokens: Math.max(MIN_THINKING_BUDGET, budget) };
}

/** One entry of OpenRouter's `reasoning_details`, as clients send them back on the next turn. */
export interface ReasoningDetail {
  type: string;
  text?: string | null;
  signature?: string | null;
  data?: string | null;
  format?: string | null;
  index?: number;
}

export type ThinkingBlock =
  { type: "thinking"; thinking: string; signature: string } | { type: "redacted_thinking"; data: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The signed thinking an assistant turn carried, back as Anthropic blocks. Anthropic requires them, unchanged and
 * first, when a tool result answers a turn that thought. Entries from other providers (another `format`), summaries
 * and unsigned text are left out: Anthropic would refuse them.
 */
export function thinkingBlocksFrom(details: unknown): ThinkingBlock[] {
  if (!Array.isArray(details)) return [];
  const entries = details.filter(isRecord);
  const ordered = entries.every((entry) => typeof entry.index === "number")
    ? [...entries].sort((a, b) => (a.index as number) - (b.index as number))
    : entries;
  // Streaming clients may keep one entry per delta: pieces with the same index are joined back into one block.
  const pieces: ({ kind: "text"; index: unknown; text: string; signature: string | null } | ThinkingBlock)[] = [];
  for (const entry of ordered) {
    if (typeof entry.format === "string" && entry.format !== REASONING_FORMAT) continue;
    if (entry.type === "reasoning.encrypted" && typeof entry.data === "string" && entry.data !== "") {
      pieces.push({ type: "redacted_thinking", data: entry.data });
      continue;
    }
    if (entry.type !== "reasoning.text") continue;
    const text = typeof entry.text === "string" ? entry.text : "";
    const signature = typeof entry.signature === "string" && entry.signature !== "" ? entry.signature : null;
    const last = pieces.at(-1);
    if (last !== undefined && "kind" in last && entry.index !== undefined && last.index === entry.index) {
      last.text += text;
      last.signature = signature ?? last.signature;
      continue;
    }
    pieces.push({ kind: "text", index: entry.index, text, signature });
  }
  const blocks: ThinkingBlock[] = [];
  for (const piece of pieces) {
    if (!("kind" in piece)) blocks.push(piece);
    else if (piece.signature !== null)
      blocks.push({ type: "thinking", thinking: piece.text, signature: piece.signature });
  }
  return blocks;
}
