import { describe, expect, it } from "vitest";
import { createApiKeyAuthenticator, type ApiKeyRecord } from "~/server/gateway/keys/api-key-authenticator";
import { hashApiKey } from "~/server/gateway/keys/api-key-format";
import { NO_RATE_LIMITS } from "~/server/gateway/limits/rate-limiter";

const KEY = `sk-gw-${"a".repeat(32)}`;
const record: ApiKeyRecord = {
  apiKeyId: "k1",
  userId: "u1",
  keyPrefix: "sk-gw-aaaaaaaa",
  expiresAt: null,
  allowedModels: null,
  rateLimits: { key: NO_RATE_LIMITS, account: NO_RATE_LIMITS },
};

function setup(found: ApiKeyRecord | null = record) {
  let now = 1_000_000;
  const lookups: string[] = [];
  const authenticator = createApiKeyAuthenticator({
    findByHash: (hash) => {
      lookups.push(hash);
      return Promise.resolve(found);
    },
    clock: () => now,
    ttlMs: 60_000,
    negativeTtlMs: 5_000,
  });
  return { authenticator, lookups, advance: (ms: number) => (now += ms) };
}

describe("createApiKeyAuthenticator", () => {
  it("looks a key up by hash once and serves repeats from memory", async () => {
    const { authenticator, lookups } = setup();
    expect(await authenticator.authenticate(KEY)).toEqual({
      apiKeyId: "k1",
      userId: "u1",
      keyPrefix: "sk-gw-aaaaaaaa",
      allowedModels: null,
      rateLimits: { key: NO_RATE_LIMITS, account: NO_RATE_LIMITS },
    });
    await authenticator.authenticate(KEY);
    expect(lookups).toEqual([hashApiKey(KEY)]);
  });

  it("shares one lookup between concurrent first requests", async () => {
    const { authenticator, lookups } = setup();
    await Promise.all([
      authenticator.authenticate(KEY),
      authenticator.authenticate(KEY),
      authenticator.authenticate(KEY),
    ]);
    expect(lookups).toHaveLength(1);
  });

  it("looks again after the TTL and after an invalidation (a revoke)", async () => {
    const { authenticator, lookups, advance } = setup();
    await authenticator.authenticate(KEY);
    advance(60_001);
    await authenticator.authenticate(KEY);
    authenticator.invalidate(hashApiKey(KEY));
    await authenticator.authenticate(KEY);
    expect(lookups).toHaveLength(3);
  });

  it("never queries for malformed keys and remembers unknown ones only briefly", async () => {
    const { authenticator, lookups, advance } = setup(null);
    expect(await authenticator.authenticate("sk-gw-short")).toBeNull();
    expect(lookups).toHaveLength(0);
    expect(await authenticator.authenticate(KEY)).toBeNull();
    expect(await authenticator.authenticate(KEY)).toBeNull();
    expect(lookups).toHaveLength(1);
    advance(5_001);
    await authenticator.authenticate(KEY);
    expect(lookups).toHaveLength(2);
  });

  it("refuses an expired key even from the cache", async () => {
    const { authenticator, advance } = setup({ ...record, expiresAt: new Date(1_000_000 + 10_000) });
    expect(await authenticator.authenticate(KEY)).not.toBeNull();
    advance(10_000);
    expect(await authenticator.authenticate(KEY)).toBeNull();
  });
});
