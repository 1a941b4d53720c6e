import type { Clock } from "../clock";
import type { RateLimitSubject } from "../limits/rate-limiter";
import { hashApiKey, isWellFormedApiKey } from "./api-key-format";

/** Who is calling: resolved from a bearer key. Its rate limits already have the configured defaults applied. */
export interface Principal extends RateLimitSubject {
  apiKeyId: string;
  userId: string;
  keyPrefix: string;
  /** Models this key may call; null when it may call any. */
  allowedModels: ReadonlySet<string> | null;
  /** The key has a spend limit: admission checks it in the database on every call (billing/leased-balance-holds.ts). */
  spendLimited: boolean;
}

/** Why a key that exists is refused: its own state, or its account disabled by an admin. */
export type InactiveKeyState = "revoked" | "disabled" | "expired" | "account_disabled";

/**
 * What a plaintext key turned out to be. Only a caller holding the whole key (its hash matched a row) learns that the
 * key is revoked, disabled or expired; anything else is `unknown`.
 */
export type Authentication =
  { status: "active"; principal: Principal } | { status: InactiveKeyState } | { status: "unknown" };

export interface ApiKeyAuthenticator {
  /** One query per key and TTL, the same for a live key as for a revoked or disabled one; malformed keys none. */
  authenticate(plaintext: string): Promise<Authentication>;
  /** Forgets a key (by hash) so that a revoke, disable or change takes effect on the next request. */
  invalidate(hash: string): void;
  /** Forgets a key by id: what a change notification names (its limits or state changed). */
  invalidateKey(apiKeyId: string): void;
  invalidateAll(): void;
}

export interface ApiKeyRecord extends Principal {
  expiresAt: Date | null;
  revokedAt: Date | null;
  disabledAt: Date | null;
  /** The account's, when an admin disabled it. */
  accountDisabledAt: Date | null;
}

/**
 * A key's state at `now`: revoked before a disabled account before disabled before expired, the most final first (a
 * revoked key cannot come back; a disabled account or key can be enabled, an expired key given a later expiry).
 */
export function keyStateAt(
  key: { revokedAt: Date | null; disabledAt: Date | null; expiresAt: Date | null; accountDisabledAt?: Date | null },
  now: number,
): InactiveKeyState | "active" {
  if (key.revokedAt !== null) return "revoked";
  if (key.accountDisabledAt != null) return "account_disabled";
  if (key.disabledAt !== null) return "disabled";
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now) return "expired";
  return "active";
}

export interface ApiKeyAuthenticatorOptions {
  /** Looks up a key by hash, whatever its state (revoked and disabled keys included). */
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  clock: Clock;
  ttlMs?: number;
  /** Unknown hashes are remembered briefly so a flood of bad keys cannot each cost a query. */
  negativeTtlMs?: number;
  maxEntries?: number;
}

const UNKNOWN: Authentication = { status: "unknown" };
const INACTIVE: Record<InactiveKeyState, Authentication> = {
  revoked: { status: "revoked" },
  disabled: { status: "disabled" },
  expired: { status: "expired" },
  account_disabled: { status: "account_disabled" },
};

interface CacheEntry {
  record: ApiKeyRecord | null;
  /** Built once per lookup, so a cached key's calls allocate nothing here. */
  active: Authentication | null;
  until: number;
}

function activeOf(record: ApiKeyRecord | null): Authentication | null {
  if (record === null) return null;
  const principal: Principal = {
    apiKeyId: record.apiKeyId,
    userId: record.userId,
    keyPrefix: record.keyPrefix,
    allowedModels: record.allowedModels,
    spendLimited: record.spendLimited,
    rateLimits: record.rateLimits,
  };
  return { status: "active", principal };
}

export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): ApiKeyAuthenticator {
  const ttlMs = options.ttlMs ?? 60_000;
  const negativeTtlMs = options.negativeTtlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const cache = new Map<string, CacheEntry>();
  // Concurrent first requests with the same key share one lookup.
  const inFlight = new Map<string, Promise<ApiKeyRecord | null>>();

  async function lookup(hash: string, now: number): Promise<CacheEntry> {
    let pending = inFlight.get(hash);
    if (pending === undefined) {
      pending = options.findByHash(hash).finally(() => inFlight.delete(hash));
      inFlight.set(hash, pending);
    }
    const record = await pending;
    if (cache.size >= maxEntries) cache.clear();
    // A revoked or disabled key is cached like a live one: revoking, disabling and enabling all evict it.
    const entry = { record, active: activeOf(record), until: now + (record ? ttlMs : negativeTtlMs) };
    cache.set(hash, entry);
    return entry;
  }

  return {
    async authenticate(plaintext) {
      if (!isWellFormedApiKey(plaintext)) return UNKNOWN;
      const hash = hashApiKey(plaintext);
      const now = options.clock();
      const cached = cache.get(hash);
      const entry = cached !== undefined && cached.until > now ? cached : await lookup(hash, now);
      if (entry.record === null || entry.active === null) return UNKNOWN;
      const state = keyStateAt(entry.record, now);
      return state === "active" ? entry.active : INACTIVE[state];
    },
    invalidate(hash) {
      cache.delete(hash);
    },
    invalidateKey(apiKeyId) {
      // Keys change rarely: a scan of the cache is cheaper than keeping a second index for it.
      for (const [hash, entry] of cache) if (entry.record?.apiKeyId === apiKeyId) cache.delete(hash);
    },
    invalidateAll() {
      cache.clear();
    },
  };
}
