import type { Clock } from "../clock";

/** One holder's limits; null means no limit on that dimension. */
export interface RateLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentRequests: number | null;
}

export const NO_RATE_LIMITS: RateLimits = { requestsPerMinute: null, tokensPerMinute: null, concurrentRequests: null };

/** Whether any limit applies to the key or its account: most keys have none, and then the limiter is not asked. */
export function isLimited(limits: { key: RateLimits; account: RateLimits }): boolean {
  const any = (scope: RateLimits) =>
    scope.requestsPerMinute !== null || scope.tokensPerMinute !== null || scope.concurrentRequests !== null;
  return any(limits.key) || any(limits.account);
}

/** Who is limited: a key, and the account that owns it (whose limits span all its keys). */
export interface RateLimitSubject {
  apiKeyId: string;
  userId: string;
  rateLimits: { key: RateLimits; account: RateLimits };
}

export type RateLimitScope = "key" | "account";
export type RateLimitDimension = "requests" | "tokens" | "concurrency";

/** One window as the `x-ratelimit-*` headers describe it: the tightest of the key's and the account's. */
export interface WindowState {
  limit: number;
  remaining: number;
  resetMs: number;
}

export interface RateLimitState {
  /** Null when neither the key nor the account has a requests-per-minute limit. */
  requests: WindowState | null;
  tokens: WindowState | null;
}

export interface RateLimitRefusal {
  scope: RateLimitScope;
  dimension: RateLimitDimension;
  limit: number;
  retryAfterMs: number;
}

export type Admission =
  | {
      admitted: true;
      state: RateLimitState;
      /** Gives the concurrency slot back; idempotent, never rejects. */
      release: () => Promise<void>;
    }
  | { admitted: false; state: RateLimitState; refusal: RateLimitRefusal };

/**
 * Per-key and per-account limits on requests per minute, tokens per minute and concurrent requests. Windows last a
 * minute from the first request counted in them (not from the top of the clock's minute), so a burst straddling a
 * minute boundary cannot get twice the limit.
 */
export interface RateLimiter {
  /**
   * Counts one request and takes a concurrency slot when every limit of the key and its account allows it;
   * otherwise counts nothing and says which limit refused. A token limit refuses while the window's recorded tokens
   * are at or over it (a call's tokens are known only once it ends).
   */
  admit(subject: RateLimitSubject): Promise<Admission>;
  /** The current state, counting nothing (for the endpoints that do not count). */
  peek(subject: RateLimitSubject): Promise<RateLimitState>;
  /** Adds a finished call's tokens to the key's and the account's token windows. Never rejects. */
  recordTokens(subject: RateLimitSubject, tokens: number): Promise<void>;
}

export const WINDOW_MS = 60_000;
/** A concurrency refusal has no window to wait for: a slot frees when some call ends. */
export const CONCURRENCY_RETRY_MS = 1_000;

/** One scope's counters as an implementation reads them; the shared code below turns them into state and refusals. */
export interface ScopeCounters {
  scope: RateLimitScope;
  limits: RateLimits;
  requests: number;
  requestsResetMs: number;
  tokens: number;
  tokensResetMs: number;
  active: number;
}

export function scopesOf(subject: RateLimitSubject): { scope: RateLimitScope; id: string; limits: RateLimits }[] {
  return [
    { scope: "key", id: `key:${subject.apiKeyId}`, limits: subject.rateLimits.key },
    { scope: "account", id: `account:${subject.userId}`, limits: subject.rateLimits.account },
  ];
}

/** The first limit (key before account; requests, tokens, concurrency) that refuses one more request. */
export function findRefusal(counters: readonly ScopeCounters[]): RateLimitRefusal | null {
  for (const scope of counters) {
    const { requestsPerMinute, tokensPerMinute, concurrentRequests } = scope.limits;
    if (requestsPerMinute !== null && scope.requests >= requestsPerMinute) {
      return {
        scope: scope.scope,
        dimension: "requests",
        limit: requestsPerMinute,
        retryAfterMs: scope.requestsResetMs,
      };
    }
    if (tokensPerMinute !== null && scope.tokens >= tokensPerMinute) {
      return { scope: scope.scope, dimension: "tokens", limit: tokensPerMinute, retryAfterMs: scope.tokensResetMs };
    }
    if (concurrentRequests !== null && scope.active >= concurrentRequests) {
      return {
        scope: scope.scope,
        dimension: "concurrency",
        limit: concurrentRequests,
        retryAfterMs: CONCURRENCY_RETRY_MS,
      };
    }
  }
  return null;
}

function tightest(windows: (WindowState | null)[]): WindowState | null {
  let best: WindowState | null = null;
  for (const window of windows) {
    if (window !== null && (best === null || window.remaining < best.remaining)) best = window;
  }
  return best;
}

/** The headers' view: per dimension, the scope with the fewest remaining. */
export function describeState(counters: readonly ScopeCounters[]): RateLimitState {
  return {
    requests: tightest(
      counters.map(({ limits, requests, requestsResetMs }) =>
        limits.requestsPerMinute === null
          ? null
          : {
              limit: limits.requestsPerMinute,
              remaining: Math.max(0, limits.requestsPerMinute - requests),
              resetMs: requestsResetMs,
            },
      ),
    ),
    tokens: tightest(
      counters.map(({ limits, tokens, tokensResetMs }) =>
        limits.tokensPerMinute === null
          ? null
          : {
              limit: limits.tokensPerMinute,
              remaining: Math.max(0, limits.tokensPerMinute - tokens),
              resetMs: tokensResetMs,
            },
      ),
    ),
  };
}

interface Window {
  count: number;
  endsAt: number;
}

/**
 * The single-process limiter. Every gateway process would count on its own, so several processes behind one load
 * balancer use the Redis limiter instead.
 */
export function createMemoryRateLimiter(options: { clock: Clock }): RateLimiter {
  const { clock } = options;
  const requestWindows = new Map<string, Window>();
  const tokenWindows = new Map<string, Window>();
  const active = new Map<string, number>();

  function live(windows: Map<string, Window>, id: string, now: number): Window | undefined {
    const window = windows.get(id);
    if (window === undefined || window.endsAt <= now) return undefined;
    return window;
  }

  // Windows of keys that went quiet would otherwise stay forever.
  function sweep(now: number): void {
    for (const windows of [requestWindows, tokenWindows]) {
      if (windows.size < 10_000) continue;
      for (const [id, window] of windows) if (window.endsAt <= now) windows.delete(id);
    }
  }

  function read(subject: RateLimitSubject, now: number): (ScopeCounters & { id: string })[] {
    return scopesOf(subject).map(({ scope, id, limits }) => {
      const requests = live(requestWindows, id, now);
      const tokens = live(tokenWindows, id, now);
      return {
        id,
        scope,
        limits,
        requests: requests?.count ?? 0,
        requestsResetMs: requests === undefined ? WINDOW_MS : requests.endsAt - now,
        tokens: tokens?.count ?? 0,
        tokensResetMs: tokens === undefined ? WINDOW_MS : tokens.endsAt - now,
        active: active.get(id) ?? 0,
      };
    });
  }

  return {
    admit(subject) {
      const now = clock();
      sweep(now);
      const counters = read(subject, now);
      const refusal = findRefusal(counters);
      if (refusal !== null) return Promise.resolve({ admitted: false, state: describeState(counters), refusal });
      const held: string[] = [];
      for (const scope of counters) {
        if (scope.limits.requestsPerMinute !== null) {
          if (scope.requests === 0) requestWindows.set(scope.id, { count: 1, endsAt: now + WINDOW_MS });
          else requestWindows.get(scope.id)!.count += 1;
          scope.requests += 1;
        }
        if (scope.limits.concurrentRequests !== null) {
          active.set(scope.id, scope.active + 1);
          held.push(scope.id);
        }
      }
      let released = false;
      return Promise.resolve({
        admitted: true,
        state: describeState(counters),
        release() {
          if (released) return Promise.resolve();
          released = true;
          for (const id of held) {
            const left = (active.get(id) ?? 1) - 1;
            if (left > 0) active.set(id, left);
            else active.delete(id);
          }
          return Promise.resolve();
        },
      });
    },
    peek(subject) {
      return Promise.resolve(describeState(read(subject, clock())));
    },
    recordTokens(subject, tokens) {
      if (tokens <= 0) return Promise.resolve();
      const now = clock();
      for (const { id, limits } of scopesOf(subject)) {
        if (limits.tokensPerMinute === null) continue;
        const window = live(tokenWindows, id, now);
        if (window === undefined) tokenWindows.set(id, { count: tokens, endsAt: now + WINDOW_MS });
        else window.count += tokens;
      }
      return Promise.resolve();
    },
  };
}
