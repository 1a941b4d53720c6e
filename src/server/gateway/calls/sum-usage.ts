import type { TokenUsage } from "../billing/compute-cost";
import type { ChatCompletionUsage } from "../protocol/chat-completion-response";

/** The usage of several upstream calls billed as one: every count summed. Null when none of them reported usage. */
export function sumTokenUsage(usages: readonly (TokenUsage | null)[]): TokenUsage | null {
  let total: TokenUsage | null = null;
  for (const usage of usages) {
    if (usage === null) continue;
    total =
      total === null
        ? { ...usage }
        : {
            promptTokens: total.promptTokens + usage.promptTokens,
            completionTokens: total.completionTokens + usage.completionTokens,
            cachedTokens: total.cachedTokens + usage.cachedTokens,
            cacheWriteTokens: total.cacheWriteTokens + usage.cacheWriteTokens,
            reasoningTokens: total.reasoningTokens + usage.reasoningTokens,
            // Known only if every copy reported its upstream cost.
            upstreamCostNano:
              total.upstreamCostNano != null && usage.upstreamCostNano != null
                ? total.upstreamCostNano + usage.upstreamCostNano
                : null,
          };
  }
  return total;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function addInto(target: JsonObject, source: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (typeof value === "number") {
      target[key] = typeof current === "number" ? current + value : value;
    } else if (isObject(value)) {
      target[key] = addInto(isObject(current) ? { ...current } : {}, value);
    } else if (current === undefined) {
      target[key] = value;
    }
  }
  return target;
}

/**
 * The upstreams' own usage objects added up field by field, nested details included, so counts the gateway does not
 * model (audio tokens, accepted prediction tokens, …) are still right for the merged call. Non-numeric fields keep
 * the first value seen.
 */
export function sumUsageObjects(
  objects: readonly (ChatCompletionUsage | null | undefined)[],
): ChatCompletionUsage | null {
  let total: JsonObject | null = null;
  for (const object of objects) {
    if (!isObject(object)) continue;
    total = addInto(total ?? {}, object);
  }
  return total as ChatCompletionUsage | null;
}
