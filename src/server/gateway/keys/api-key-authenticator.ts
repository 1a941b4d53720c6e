import type { Clock } from "../deps";
import type { RateLimitSubject } from "../limits/rate-limiter";
import { hashApiKey, isWellFormedApiKey } from "./api-key-format";

/** Who is calling: resolved from a bearer key. Its rate limits already have the configured defaults applied. */
export interface Principal extends RateLimitSubject {
  apiKeyId: string;
  userId: string;
  keyPrefix: string;
  /** Models this key may call; null when it may call any. */
  allowedModels: ReadonlySet<string> | null;
}

export interface ApiKeyAuthenticator {
  /** The principal for a plaintext key, or null when it is unknown, revoked or expired. */
  authenticate(plaintext: string): Promise<Principal | null>;
  /** Forgets a key (by hash) so that a revoke takes effect on the next request. */
  invalidate(hash: string): void;
  invalidateAll(): void;
}

export interface ApiKeyRecord extends Principal {
  expiresAt: Date | null;
}

export interface ApiKeyAuthenticatorOptions {
  /** Looks up a live (not revoked) key by hash. */
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  clock: Clock;
  ttlMs?: number;
  /** Unknown hashes are remembered briefly so a flood of bad keys cannot each cost a query. */
  negativeTtlMs?: number;
  maxEntries?: number;
}

interface CacheEntry {
  record: ApiKeyRecord | null;
  until: number;
}

export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): ApiKeyAuthenticator {
  const ttlMs = options.ttlMs ?? 60_000;
  const negativeTtlMs = options.negativeTtlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const cache = new Map<string, CacheEntry>();
  // Concurrent first requests with the same key share one lookup.
  const inFlight = new Map<string, Promise<ApiKeyRecord | null>>();

  async function lookup(hash: string, now: number): Promise<ApiKeyRecord | null> {
    let pending = inFlight.get(hash);
    if (pending === undefined) {
      pending = options.findByHash(hash).finally(() => inFlight.delete(hash));
      inFlight.set(hash, pending);
    }
    const record = await pending;
    if (cache.size >= maxEntries) cache.clear();
    cache.set(hash, { record, until: now + (record ? ttlMs : negativeTtlMs) });
    return record;
  }

  return {
    async authenticate(plaintext) {
      if (!isWellFormedApiKey(plaintext)) return null;
      const hash = hashApiKey(plaintext);
      const now = options.clock();
      const cached = cache.get(hash);
      const record = cached !== undefined && cached.until > now ? cached.record : await lookup(hash, now);
      if (record === null) return null;
      if (record.expiresAt !== null && record.expiresAt.getTime() <= now) return null;
      return {
        apiKeyId: record.apiKeyId,
        userId: record.userId,
        keyPrefix: record.keyPrefix,
        allowedModels: record.allowedModels,
        rateLimits: record.rateLimits,
      };
    },
    invalidate(hash) {
      cache.delete(hash);
    },
    invalidateAll() {
      cache.clear();
    },
  };
}
