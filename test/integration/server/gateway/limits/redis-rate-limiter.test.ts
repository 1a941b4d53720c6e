import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_RATE_LIMITS, type RateLimits, type RateLimitSubject } from "~/server/gateway/limits/rate-limiter";
import { createRedisRateLimiter } from "~/server/gateway/limits/redis-rate-limiter";

const REDIS_URL = process.env.REDIS_URL?.trim();

function subject(key: Partial<RateLimits>, account: Partial<RateLimits> = {}): RateLimitSubject {
  return {
    apiKeyId: randomUUID(),
    userId: randomUUID(),
    rateLimits: { key: { ...NO_RATE_LIMITS, ...key }, account: { ...NO_RATE_LIMITS, ...account } },
  };
}

describe.skipIf(REDIS_URL === undefined || REDIS_URL === "")("createRedisRateLimiter (real Redis)", () => {
  const prefix = `tollgate-test:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL!);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("admits exactly the limit when many admissions race, from separate clients", async () => {
    const other = new Redis(REDIS_URL!);
    try {
      const limiters = [createRedisRateLimiter({ redis, prefix }), createRedisRateLimiter({ redis: other, prefix })];
      const caller = subject({ requestsPerMinute: 7 });
      const admissions = await Promise.all(
        Array.from({ length: 12 }, (_, index) => limiters[index % 2]!.admit(caller)),
      );
      expect(admissions.filter((admission) => admission.admitted)).toHaveLength(7);
      const refusals = admissions.flatMap((admission) => (admission.admitted ? [] : [admission.refusal]));
      expect(refusals).toHaveLength(5);
      for (const refusal of refusals) {
        expect(refusal).toMatchObject({ scope: "key", dimension: "requests", limit: 7 });
        expect(refusal.retryAfterMs).toBeGreaterThan(0);
        expect(refusal.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
      expect((await limiters[0]!.peek(caller)).requests).toMatchObject({ limit: 7, remaining: 0 });
    } finally {
      await other.quit();
    }
  });

  it("refuses on the account's limit without counting against the key", async () => {
    const limiter = createRedisRateLimiter({ redis, prefix });
    const caller = subject({ requestsPerMinute: 5 }, { requestsPerMinute: 1 });
    expect((await limiter.admit(caller)).admitted).toBe(true);
    expect(await limiter.admit(caller)).toMatchObject({ admitted: false, refusal: { scope: "account", limit: 1 } });
    expect(
      (await limiter.peek({ ...caller, rateLimits: { ...caller.rateLimits, account: NO_RATE_LIMITS } })).requests,
    ).toMatchObject({ limit: 5, remaining: 4 });
  });

  it("holds concurrency slots as leases: released once, and expiring when never released", async () => {
    const limiter = createRedisRateLimiter({ redis, prefix });
    const caller = subject({ concurrentRequests: 1 });
    const first = await limiter.admit(caller);
    if (!first.admitted) throw new Error("expected admission");
    expect(await limiter.admit(caller)).toMatchObject({ admitted: false, refusal: { dimension: "concurrency" } });
    await first.release();
    await first.release();
    const second = await limiter.admit(caller);
    expect(second.admitted).toBe(true);
    expect((await limiter.admit(caller)).admitted).toBe(false);

    // A process that died holding a slot: its lease's expiry (the sorted set's score) has passed.
    const leases = `${prefix}key:${caller.apiKeyId}:leases`;
    const [lease] = await redis.zrange(leases, "0", "0");
    await redis.zadd(leases, 0, lease!);
    expect((await limiter.admit(caller)).admitted).toBe(true);
  });

  it("counts tokens per key and account, refusing at the limit", async () => {
    const limiter = createRedisRateLimiter({ redis, prefix });
    const caller = subject({ tokensPerMinute: 100 }, { tokensPerMinute: 1_000 });
    await limiter.recordTokens(caller, 60);
    expect((await limiter.peek(caller)).tokens).toMatchObject({ limit: 100, remaining: 40 });
    expect((await limiter.admit(caller)).admitted).toBe(true);
    await limiter.recordTokens(caller, 40);
    const refused = await limiter.admit(caller);
    expect(refused).toMatchObject({ admitted: false, refusal: { scope: "key", dimension: "tokens", limit: 100 } });
    expect(await redis.get(`${prefix}account:${caller.userId}:tokens`)).toBe("100");
    expect(await redis.pttl(`${prefix}key:${caller.apiKeyId}:tokens`)).toBeGreaterThan(0);
  });

  it("starts a new window when the old one expired", async () => {
    const limiter = createRedisRateLimiter({ redis, prefix });
    const caller = subject({ requestsPerMinute: 1 });
    expect((await limiter.admit(caller)).admitted).toBe(true);
    expect((await limiter.admit(caller)).admitted).toBe(false);
    // What the window's expiry does a minute later, now.
    await redis.del(`${prefix}key:${caller.apiKeyId}:requests`);
    expect(await limiter.admit(caller)).toMatchObject({ admitted: true, state: { requests: { remaining: 0 } } });
  });
});
