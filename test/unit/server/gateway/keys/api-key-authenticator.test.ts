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
  revokedAt: null,
  disabledAt: null,
  accountDisabledAt: null,
  allowedModels: null,
  spendLimited: false,
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
      status: "active",
      principal: {
        apiKeyId: "k1",
        userId: "u1",
        keyPrefix: "sk-gw-aaaaaaaa",
        allowedModels: null,
        spendLimited: false,
        rateLimits: { key: NO_RATE_LIMITS, account: NO_RATE_LIMITS },
      },
    });
    await authenticator.authenticate(KEY);
    expect(lookups).toEqual([hashApiKey(KEY)]);
  });

  it("forgets a key named by id, and only that key", async () => {
    const { authenticator, lookups } = setup();
    await authenticator.authenticate(KEY);
    authenticator.invalidateKey("another-key");
    await authenticator.authenticate(KEY);
    expect(lookups).toHaveLength(1);
    authenticator.invalidateKey("k1");
    await authenticator.authenticate(KEY);
    expect(lookups).toHaveLength(2);
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
    expect(await authenticator.authenticate("sk-gw-short")).toEqual({ status: "unknown" });
    expect(lookups).toHaveLength(0);
    expect(await authenticator.authenticate(KEY)).toEqual({ status: "unknown" });
    expect(await authenticator.authenticate(KEY)).toEqual({ status: "unknown" });
    expect(lookups).toHaveLength(1);
    advance(5_001);
    await authenticator.authenticate(KEY);
    expect(lookups).toHaveLength(2);
  });

  it("says a key expired, even from the cache", async () => {
    const { authenticator, advance } = setup({ ...record, expiresAt: new Date(1_000_000 + 10_000) });
    expect(await authenticator.authenticate(KEY)).toMatchObject({ status: "active" });
    advance(10_000);
    expect(await authenticator.authenticate(KEY)).toEqual({ status: "expired" });
  });

  it.each([
    ["revoked", { revokedAt: new Date(0) }],
    ["disabled", { disabledAt: new Date(0) }],
    // Revoking is final: it is what a key both revoked and disabled (or expired) is told.
    ["revoked", { revokedAt: new Date(0), disabledAt: new Date(0), expiresAt: new Date(0) }],
    ["disabled", { disabledAt: new Date(0), expiresAt: new Date(0) }],
    // An admin disabled the account: every key of it is refused, whatever the key's own state short of revoked.
    ["account_disabled", { accountDisabledAt: new Date(0) }],
    ["account_disabled", { accountDisabledAt: new Date(0), disabledAt: new Date(0), expiresAt: new Date(0) }],
    ["revoked", { accountDisabledAt: new Date(0), revokedAt: new Date(0) }],
  ])("says a key found by its hash is %s, from one lookup", async (status, state) => {
    const { authenticator, lookups } = setup({ ...record, ...state });
    expect(await authenticator.authenticate(KEY)).toEqual({ status });
    expect(await authenticator.authenticate(KEY)).toEqual({ status });
    expect(lookups).toHaveLength(1);
  });

  it("reads a refused key again after an invalidation (enabled again)", async () => {
    let found: ApiKeyRecord = { ...record, disabledAt: new Date(0) };
    const authenticator = createApiKeyAuthenticator({ findByHash: () => Promise.resolve(found), clock: () => 0 });
    expect(await authenticator.authenticate(KEY)).toEqual({ status: "disabled" });
    found = record;
    authenticator.invalidate(hashApiKey(KEY));
    expect(await authenticator.authenticate(KEY)).toMatchObject({ status: "active", principal: { apiKeyId: "k1" } });
  });
});
