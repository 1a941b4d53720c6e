import { describe, expect, it } from "vitest";
import { formatResetDuration, describeRefusal, rateLimitHeaders } from "~/server/gateway/limits/rate-limit-http";
import {
  createMemoryRateLimiter,
  NO_RATE_LIMITS,
  type RateLimits,
  type RateLimitSubject,
} from "~/server/gateway/limits/rate-limiter";

function subject(key: Partial<RateLimits>, account: Partial<RateLimits> = {}, apiKeyId = "k1"): RateLimitSubject {
  return {
    apiKeyId,
    userId: "u1",
    rateLimits: { key: { ...NO_RATE_LIMITS, ...key }, account: { ...NO_RATE_LIMITS, ...account } },
  };
}

function setup() {
  let now = 1_000_000;
  const limiter = createMemoryRateLimiter({ clock: () => now });
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe("createMemoryRateLimiter", () => {
  it("admits up to the key's requests per minute, then refuses until the window rolls over", async () => {
    const { limiter, advance } = setup();
    const caller = subject({ requestsPerMinute: 2 });
    const first = await limiter.admit(caller);
    expect(first).toMatchObject({ admitted: true, state: { requests: { limit: 2, remaining: 1, resetMs: 60_000 } } });
    advance(20_000);
    expect(await limiter.admit(caller)).toMatchObject({ admitted: true, state: { requests: { remaining: 0 } } });
    advance(28_000);
    const refused = await limiter.admit(caller);
    expect(refused).toMatchObject({
      admitted: false,
      refusal: { scope: "key", dimension: "requests", limit: 2, retryAfterMs: 12_000 },
      state: { requests: { limit: 2, remaining: 0, resetMs: 12_000 } },
    });
    // The refusal counted nothing: the window still ends a minute after its first request.
    advance(12_000);
    expect(await limiter.admit(caller)).toMatchObject({
      admitted: true,
      state: { requests: { remaining: 1, resetMs: 60_000 } },
    });
  });

  it("counts the account's limit across its keys", async () => {
    const { limiter } = setup();
    expect((await limiter.admit(subject({}, { requestsPerMinute: 1 }, "k1"))).admitted).toBe(true);
    expect(await limiter.admit(subject({}, { requestsPerMinute: 1 }, "k2"))).toMatchObject({
      admitted: false,
      refusal: { scope: "account", dimension: "requests", limit: 1 },
    });
  });

  it("holds a concurrency slot until it is released, once", async () => {
    const { limiter } = setup();
    const caller = subject({ concurrentRequests: 1 });
    const first = await limiter.admit(caller);
    if (!first.admitted) throw new Error("expected admission");
    expect(await limiter.admit(caller)).toMatchObject({
      admitted: false,
      refusal: { dimension: "concurrency", limit: 1, retryAfterMs: 1_000 },
    });
    await first.release();
    await first.release();
    const second = await limiter.admit(caller);
    expect(second.admitted).toBe(true);
    // A second release of the first lease did not free the second's slot.
    expect((await limiter.admit(caller)).admitted).toBe(false);
  });

  it("refuses while recorded tokens are at the limit, and admits once their window ends", async () => {
    const { limiter, advance } = setup();
    const caller = subject({ tokensPerMinute: 100 });
    await limiter.recordTokens(caller, 60);
    expect(await limiter.peek(caller)).toEqual({
      requests: null,
      tokens: { limit: 100, remaining: 40, resetMs: 60_000 },
    });
    expect((await limiter.admit(caller)).admitted).toBe(true);
    advance(30_000);
    await limiter.recordTokens(caller, 40);
    expect(await limiter.admit(caller)).toMatchObject({
      admitted: false,
      refusal: { dimension: "tokens", limit: 100, retryAfterMs: 30_000 },
    });
    advance(30_000);
    expect((await limiter.admit(caller)).admitted).toBe(true);
  });

  it("reports the tighter of the key's and the account's windows", async () => {
    const { limiter } = setup();
    const caller = subject({ requestsPerMinute: 10 }, { requestsPerMinute: 3 });
    await limiter.admit(caller);
    expect((await limiter.peek(caller)).requests).toEqual({ limit: 3, remaining: 2, resetMs: 60_000 });
  });

  it("limits nothing without limits", async () => {
    const { limiter } = setup();
    for (let i = 0; i < 5; i += 1) expect((await limiter.admit(subject({}))).admitted).toBe(true);
    expect(await limiter.peek(subject({}))).toEqual({ requests: null, tokens: null });
  });
});

describe("rate limit headers", () => {
  it("formats resets as OpenAI does", () => {
    expect(formatResetDuration(20)).toBe("20ms");
    expect(formatResetDuration(1_000)).toBe("1s");
    expect(formatResetDuration(11_200)).toBe("12s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(formatResetDuration(90_500)).toBe("1m31s");
  });

  it("always has the requests headers: a large constant when no requests limit applies", () => {
    const unlimited = {
      "x-ratelimit-limit-requests": "2147483647",
      "x-ratelimit-remaining-requests": "2147483647",
      "x-ratelimit-reset-requests": "0s",
    };
    expect(rateLimitHeaders({ requests: null, tokens: null })).toEqual(unlimited);
    expect(rateLimitHeaders({ requests: null, tokens: { limit: 100, remaining: 40, resetMs: 1_500 } })).toEqual({
      ...unlimited,
      "x-ratelimit-limit-tokens": "100",
      "x-ratelimit-remaining-tokens": "40",
      "x-ratelimit-reset-tokens": "2s",
    });
    expect(rateLimitHeaders({ requests: { limit: 5, remaining: 4, resetMs: 60_000 }, tokens: null })).toEqual({
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "4",
      "x-ratelimit-reset-requests": "1m0s",
    });
  });

  it("says which limit was hit", () => {
    expect(describeRefusal({ scope: "key", dimension: "requests", limit: 60, retryAfterMs: 11_200 })).toBe(
      "This key's limit of 60 requests per minute is reached; retry in 12 s.",
    );
    expect(describeRefusal({ scope: "account", dimension: "concurrency", limit: 2, retryAfterMs: 1_000 })).toBe(
      "This account's limit of 2 concurrent requests is reached; retry in 1 s.",
    );
  });
});
