import { createHash, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import {
  describeState,
  findRefusal,
  scopesOf,
  WINDOW_MS,
  type RateLimiter,
  type RateLimitSubject,
  type ScopeCounters,
} from "./rate-limiter";

/**
 * Reads (and, when ARGV[1] is "1", counts) every scope in one atomic step, so two processes admitting at once cannot
 * both take the last request of a window. Time is Redis's own (TIME), so the processes' clocks never disagree.
 *
 * KEYS: per scope, its requests window, tokens window and lease set.
 * ARGV: count ("1" or "0"), window ms, lease id, lease ttl ms, then per scope its three limits (-1 = none).
 * Returns 1 if admitted (0 if refused, counting nothing), then per scope: requests, requests reset ms, tokens, tokens
 * reset ms, active leases (after counting).
 */
const READ_AND_ADMIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local count = ARGV[1] == '1'
local windowMs = tonumber(ARGV[2])
local leaseTtl = tonumber(ARGV[4])
local scopes = #KEYS / 3
local state = {}
local refused = false
for i = 0, scopes - 1 do
  local requestsKey, tokensKey, leasesKey = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local rpm, tpm, concurrency = tonumber(ARGV[5 + i * 3]), tonumber(ARGV[6 + i * 3]), tonumber(ARGV[7 + i * 3])
  local requests, requestsReset = tonumber(redis.call('GET', requestsKey) or '0'), redis.call('PTTL', requestsKey)
  if requestsReset < 0 then requests, requestsReset = 0, windowMs end
  local tokens, tokensReset = tonumber(redis.call('GET', tokensKey) or '0'), redis.call('PTTL', tokensKey)
  if tokensReset < 0 then tokens, tokensReset = 0, windowMs end
  -- Leases of a process that died without releasing them expire here.
  redis.call('ZREMRANGEBYSCORE', leasesKey, '-inf', now)
  local active = redis.call('ZCARD', leasesKey)
  if (rpm >= 0 and requests >= rpm) or (tpm >= 0 and tokens >= tpm) or (concurrency >= 0 and active >= concurrency) then
    refused = true
  end
  state[#state + 1] = requests
  state[#state + 1] = requestsReset
  state[#state + 1] = tokens
  state[#state + 1] = tokensReset
  state[#state + 1] = active
end
if count and not refused then
  for i = 0, scopes - 1 do
    local requestsKey, leasesKey = KEYS[i * 3 + 1], KEYS[i * 3 + 3]
    if tonumber(ARGV[5 + i * 3]) >= 0 then
      state[i * 5 + 1] = redis.call('INCR', requestsKey)
      if state[i * 5 + 1] == 1 then redis.call('PEXPIRE', requestsKey, windowMs) end
    end
    if tonumber(ARGV[7 + i * 3]) >= 0 then
      redis.call('ZADD', leasesKey, now + leaseTtl, ARGV[3])
      redis.call('PEXPIRE', leasesKey, leaseTtl)
      state[i * 5 + 5] = state[i * 5 + 5] + 1
    end
  end
end
table.insert(state, 1, refused and 0 or 1)
return state
`;

/** KEYS: tokens windows; ARGV: tokens, window ms. A window starts at its first recorded tokens. */
const RECORD_TOKENS = `
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[1])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 0
`;

type Script = (redis: Redis, keys: string[], args: (string | number)[]) => Promise<unknown>;

/** EVALSHA, loading the script on NOSCRIPT (first use, or after Redis restarted or flushed its script cache). */
function script(source: string): Script {
  const sha = createHash("sha1").update(source).digest("hex");
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(source, keys.length, ...keys, ...args);
    }
  };
}

const readAndAdmit = script(READ_AND_ADMIT);
const recordTokensScript = script(RECORD_TOKENS);

export interface RedisRateLimiterOptions {
  redis: Redis;
  /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
  prefix?: string;
  /**
   * How long a concurrency slot outlives a process that died without releasing it. Longer than the longest call: a
   * lease that expires while its call still runs only loosens the limit.
   */
  leaseTtlMs?: number;
  /** Told when recording tokens fails (recording is off the request's path, so nobody else would hear of it). */
  onError?: (error: unknown) => void;
}

/**
 * The limiter shared by every gateway process using the same Redis. Counters are plain keys that expire with their
 * window; concurrency slots are members of a sorted set scored by their expiry. Not for Redis Cluster: one script
 * touches a key's and its account's counters, which would live in different slots.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const { redis } = options;
  const prefix = options.prefix ?? "tollgate:ratelimit:";
  const leaseTtlMs = options.leaseTtlMs ?? 15 * 60_000;

  async function run(
    subject: RateLimitSubject,
    count: boolean,
    leaseId: string,
  ): Promise<{ admitted: boolean; counters: ScopeCounters[] }> {
    const scopes = scopesOf(subject);
    const keys = scopes.flatMap(({ id }) => [
      `${prefix}${id}:requests`,
      `${prefix}${id}:tokens`,
      `${prefix}${id}:leases`,
    ]);
    const limits = scopes.flatMap(({ limits }) =>
      [limits.requestsPerMinute, limits.tokensPerMinute, limits.concurrentRequests].map((limit) => limit ?? -1),
    );
    const args = [count ? "1" : "0", WINDOW_MS, leaseId, leaseTtlMs, ...limits];
    const [admitted, ...reply] = (await readAndAdmit(redis, keys, args)) as number[];
    const counters = scopes.map(({ scope, limits }, index) => ({
      scope,
      limits,
      requests: reply[index * 5] ?? 0,
      requestsResetMs: reply[index * 5 + 1] ?? WINDOW_MS,
      tokens: reply[index * 5 + 2] ?? 0,
      tokensResetMs: reply[index * 5 + 3] ?? WINDOW_MS,
      active: reply[index * 5 + 4] ?? 0,
    }));
    return { admitted: admitted === 1, counters };
  }

  return {
    async admit(subject) {
      const leaseId = randomUUID();
      const { admitted, counters } = await run(subject, true, leaseId);
      if (!admitted) {
        // A refusal counted nothing, so the counters read are the ones the script refused on: the same test names it.
        const refusal = findRefusal(counters);
        if (refusal === null) throw new Error("the rate limit script refused without a limit reached");
        return { admitted: false, state: describeState(counters), refusal };
      }
      const leaseKeys = scopesOf(subject)
        .filter(({ limits }) => limits.concurrentRequests !== null)
        .map(({ id }) => `${prefix}${id}:leases`);
      let released: Promise<void> | undefined;
      return {
        admitted: true,
        state: describeState(counters),
        release() {
          released ??= Promise.all(leaseKeys.map((key) => redis.zrem(key, leaseId))).then(
            () => undefined,
            // An unreleased lease expires on its own; the call has ended either way.
            (error: unknown) => options.onError?.(error),
          );
          return released;
        },
      };
    },
    async peek(subject) {
      return describeState((await run(subject, false, "")).counters);
    },
    async recordTokens(subject, tokens) {
      const keys = scopesOf(subject)
        .filter(({ limits }) => limits.tokensPerMinute !== null)
        .map(({ id }) => `${prefix}${id}:tokens`);
      if (tokens <= 0 || keys.length === 0) return;
      try {
        await recordTokensScript(redis, keys, [Math.round(tokens), WINDOW_MS]);
      } catch (error) {
        options.onError?.(error);
      }
    },
  };
}
