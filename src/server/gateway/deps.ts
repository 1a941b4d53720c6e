import type { AccountReader } from "./accounts/account-reader";
import type { BalanceHolds } from "./billing/balance-holds";
import type { UsageWriter } from "./billing/usage-writer";
import type { ApiKeyAuthenticator } from "./keys/api-key-authenticator";
import type { RateLimiter } from "./limits/rate-limiter";
import type { Logger } from "./logger";
import type { RequestObserver } from "./observe/request-record";
import type { ImageFetcher } from "./net/safe-image-fetch";
import type { ProviderRegistry } from "./providers/registry";
import type { Catalog } from "./routing/catalog";
import type { ChannelStats } from "./routing/channel-stats";
import type { CircuitBreaker } from "./routing/circuit-breaker";
import type { Clock } from "./clock";

/** Everything the core needs from the outside world, injected by the composition root (src/server/container.ts). */
export interface GatewayDeps {
  authenticator: ApiKeyAuthenticator;
  catalog: Catalog;
  /** Per channel+model circuits: a failing upstream is skipped until its cooldown ends. */
  breaker: CircuitBreaker;
  /** Rolling per channel+model outcomes and speeds: for `provider.sort`, `/v1/models/{id}/endpoints` and operators. */
  channelStats: ChannelStats;
  /** Caps on failover: attempts per call, and time spent before giving up on further candidates. */
  routing: { maxAttempts: number; maxTotalMs: number };
  /** An upstream refused a channel's key: record it (operators see why) and stop routing to the channel. */
  reportBrokenChannel(channelId: string, reason: string): void;
  /** Reserves each call's worst-case cost before dispatch; settlement (the usage writer) releases it. */
  holds: BalanceHolds;
  usageWriter: UsageWriter;
  providers: ProviderRegistry;
  clock: Clock;
  /** Uniform in [0, 1); used for weighted choice between endpoints. */
  random: () => number;
  /** New generation ids (`gen-…`). */
  newGenerationId: () => string;
  logger: Logger;
  /** Told how each request ends: the request log line and the metrics (observe/request-record.ts). */
  observer: RequestObserver;
  /** Read side of the account endpoints (/v1/key, /v1/credits, /v1/generation). */
  accounts: AccountReader;
  /**
   * A stream whose upstream has not produced its first byte after this many milliseconds gets its headers and an SSE
   * comment (`: tollgate processing`), then another comment every interval, so proxies and clients do not time out.
   */
  streamKeepAliveMs: number;
  /**
   * Downloads an image URL for providers that only take inline images (`inlinesImageUrls`), refusing private,
   * loopback and link-local addresses (net/safe-image-fetch.ts).
   */
  fetchImage: ImageFetcher;
  /** Per-key and per-account requests, tokens and concurrency (limits/): in memory, or Redis across processes. */
  rateLimiter: RateLimiter;
}
