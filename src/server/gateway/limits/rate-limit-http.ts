import type { GatewayResponseBody } from "../http";
import type { RateLimitRefusal, RateLimitState, WindowState } from "./rate-limiter";

/**
 * OpenAI's reset format: a Go-style duration, "20ms", "1s", "6m0s". Whole seconds are rounded up, so a client that
 * waits that long finds the window reset.
 */
export function formatResetDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 1_000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

function windowHeaders(name: "requests" | "tokens", window: WindowState | null): Record<string, string> {
  if (window === null) return {};
  return {
    [`x-ratelimit-limit-${name}`]: String(window.limit),
    [`x-ratelimit-remaining-${name}`]: String(window.remaining),
    [`x-ratelimit-reset-${name}`]: formatResetDuration(window.resetMs),
  };
}

/**
 * What the requests headers say when neither the key nor its account has a requests-per-minute limit: 2^31 − 1 (the
 * largest count any client's integer parser takes) remaining out of as many, nothing to wait for. A constant, so an
 * unlimited key's call never asks the limiter.
 */
const UNLIMITED_REQUESTS_PER_MINUTE = 2_147_483_647;
export const UNLIMITED_REQUEST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-ratelimit-limit-requests": String(UNLIMITED_REQUESTS_PER_MINUTE),
  "x-ratelimit-remaining-requests": String(UNLIMITED_REQUESTS_PER_MINUTE),
  "x-ratelimit-reset-requests": "0s",
});

/**
 * The `x-ratelimit-*` headers. The requests headers are always there (the unlimited constant when no requests limit
 * applies); the tokens headers only when the key or its account has a token limit.
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    ...(state.requests === null ? UNLIMITED_REQUEST_HEADERS : windowHeaders("requests", state.requests)),
    ...windowHeaders("tokens", state.tokens),
  };
}

export function retryAfterSeconds(refusal: RateLimitRefusal): number {
  return Math.max(1, Math.ceil(refusal.retryAfterMs / 1_000));
}

/** E.g. "This key's limit of 60 requests per minute is reached; retry in 12 s." */
export function describeRefusal(refusal: RateLimitRefusal): string {
  const holder = refusal.scope === "key" ? "This key's" : "This account's";
  const what =
    refusal.dimension === "requests"
      ? "requests per minute"
      : refusal.dimension === "tokens"
        ? "tokens per minute"
        : "concurrent requests";
  return `${holder} limit of ${refusal.limit} ${what} is reached; retry in ${retryAfterSeconds(refusal)} s.`;
}

/**
 * Runs `release` once the response is finished: at once for a body already in memory; for a stream when its
 * iteration ends in any way (done, error, `return()`), or when the client goes away while the stream waits on its
 * upstream (a pending `next()` would delay `return()` until the upstream answers).
 */
export function releaseWhenFinished(
  body: GatewayResponseBody,
  release: () => Promise<void>,
  signal: AbortSignal,
): GatewayResponseBody {
  if (typeof body === "string" || body instanceof Uint8Array) {
    void release();
    return body;
  }
  const stream = body;
  const onAbort = () => void release();
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  async function* released(): AsyncGenerator<string | Uint8Array> {
    try {
      yield* stream;
    } finally {
      signal.removeEventListener("abort", onAbort);
      await release();
    }
  }
  return released();
}
