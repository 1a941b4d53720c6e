import type { Redis } from "ioredis";

/*
 * Failed sign-ins are counted per account (email) and per network address over a window; past a limit, sign-in is
 * refused until the window ends, whatever the password. Per account it stops guessing one customer's password from
 * many addresses; per address it stops one address trying many accounts. One process counts in memory; several share
 * Redis (REDIS_URL), so an attacker cannot spread attempts over the instances behind a load balancer.
 */

export interface SignInAttempt {
  /** Lower-cased. */
  email: string;
  /** The client's address as the reverse proxy reported it; null when unknown (then only the account counts). */
  ip: string | null;
}

export interface SignInThrottleLimits {
  failuresPerEmail: number;
  failuresPerIp: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInThrottleLimits = {
  failuresPerEmail: 5,
  failuresPerIp: 30,
  windowMs: 15 * 60_000,
};

/**
 * "Forgot your password?" requests, each counted as an attempt: a few per account an hour (a person who lost the
 * first mail asks again) and per address, so that the form cannot flood a mailbox.
 */
export const PASSWORD_RESET_LIMITS: SignInThrottleLimits = {
  failuresPerEmail: 3,
  failuresPerIp: 20,
  windowMs: 60 * 60_000,
};

/** A fixed-window counter of failures per key. */
interface FailureCounts {
  /** Failures in the key's current window, and the milliseconds until it ends. */
  read(key: string): Promise<{ failures: number; resetInMs: number }>;
  add(key: string, windowMs: number): Promise<void>;
  clear(key: string): Promise<void>;
}

export function createMemoryFailureCounts(now: () => number = Date.now): FailureCounts {
  const windows = new Map<string, { failures: number; endsAt: number }>();
  const current = (key: string) => {
    const window = windows.get(key);
    if (window === undefined || window.endsAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  return {
    read(key) {
      const window = current(key);
      return Promise.resolve(
        window === undefined
          ? { failures: 0, resetInMs: 0 }
          : { failures: window.failures, resetInMs: window.endsAt - now() },
      );
    },
    add(key, windowMs) {
      const window = current(key);
      if (window === undefined) {
        // Expired windows go as new ones come: the map holds only addresses and emails seen within a window.
        if (windows.size > 100_000)
          for (const [stale, { endsAt }] of windows) if (endsAt <= now()) windows.delete(stale);
        windows.set(key, { failures: 1, endsAt: now() + windowMs });
      } else window.failures += 1;
      return Promise.resolve();
    },
    clear(key) {
      windows.delete(key);
      return Promise.resolve();
    },
  };
}

/**
 * Counts in Redis. When Redis cannot be reached, sign-in goes on uncounted (`onError` is told): refusing every
 * sign-in would be a worse outage than not throttling for a while, as with the API's rate limits.
 */
export function createRedisFailureCounts(
  redis: Redis,
  onError: (error: unknown) => void,
  prefix = "tollgate:sign-in:",
): FailureCounts {
  return {
    async read(key) {
      try {
        const [[, failures], [, ttl]] = (await redis
          .multi()
          .get(prefix + key)
          .pttl(prefix + key)
          .exec()) as [[Error | null, string | null], [Error | null, number]];
        return { failures: failures === null ? 0 : Number(failures), resetInMs: Math.max(0, ttl) };
      } catch (error) {
        onError(error);
        return { failures: 0, resetInMs: 0 };
      }
    },
    async add(key, windowMs) {
      // The window starts at the first failure: NX leaves a running window's end where it is.
      await redis
        .multi()
        .incr(prefix + key)
        .pexpire(prefix + key, windowMs, "NX")
        .exec()
        .catch(onError);
    },
    async clear(key) {
      await redis.del(prefix + key).catch(onError);
    },
  };
}

export interface SignInThrottle {
  /** Seconds until this attempt may be checked at all; 0 when it may. */
  retryAfterSeconds(attempt: SignInAttempt): Promise<number>;
  recordFailure(attempt: SignInAttempt): Promise<void>;
  /** A correct password clears the account's count (not the address's: one success must not reset a spray). */
  recordSuccess(attempt: SignInAttempt): Promise<void>;
}

export function createSignInThrottle(
  counts: FailureCounts,
  limits: SignInThrottleLimits = DEFAULT_SIGN_IN_LIMITS,
): SignInThrottle {
  const emailKey = (attempt: SignInAttempt) => `email:${attempt.email}`;
  const ipKey = (attempt: SignInAttempt) => `ip:${attempt.ip ?? ""}`;
  return {
    async retryAfterSeconds(attempt) {
      const [byEmail, byIp] = await Promise.all([
        counts.read(emailKey(attempt)),
        attempt.ip === null ? Promise.resolve({ failures: 0, resetInMs: 0 }) : counts.read(ipKey(attempt)),
      ]);
      let waitMs = 0;
      if (byEmail.failures >= limits.failuresPerEmail) waitMs = Math.max(waitMs, byEmail.resetInMs);
      if (byIp.failures >= limits.failuresPerIp) waitMs = Math.max(waitMs, byIp.resetInMs);
      return Math.ceil(waitMs / 1000);
    },
    async recordFailure(attempt) {
      await Promise.all([
        counts.add(emailKey(attempt), limits.windowMs),
        attempt.ip === null ? Promise.resolve() : counts.add(ipKey(attempt), limits.windowMs),
      ]);
    },
    async recordSuccess(attempt) {
      await counts.clear(emailKey(attempt));
    },
  };
}

/** The first address of X-Forwarded-For (set by the reverse proxy in front), else X-Real-IP; null when neither. */
export function clientAddress(headers: Headers): string | null {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  if (forwarded !== undefined && forwarded !== "") return forwarded;
  const real = headers.get("x-real-ip")?.trim();
  return real === undefined || real === "" ? null : real;
}
