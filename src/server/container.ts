import { randomBytes, randomFillSync } from "node:crypto";
import { Redis } from "ioredis";
import { createReadinessProbe, shippedMigrationCount, type ReadinessReport } from "./health/readiness";
import { env as processEnv, type Env } from "~/env";
import { createAutoTopUpFromEnv } from "./billing/stripe/deps-from-container";
import { bootstrap } from "./bootstrap";
import { createChangeBus, type ChangeBus } from "./changes";
import { createSecretBox, type SecretBox } from "./crypto/secret-box";
import { openDatabase, type Database, type DatabaseHandle } from "./db";
import { defaultMigrationsFolder, migrate } from "./db/migrate";
import { createDatabaseBalanceHolds, type BalanceHolds, type HoldStatements } from "./gateway/billing/balance-holds";
import { readBalanceNano } from "./gateway/billing/ledger";
import { createLeasedBalanceHolds, type LeasedBalanceHolds } from "./gateway/billing/leased-balance-holds";
import { createMemoryBalanceHolds, type MemoryBalanceHolds } from "./gateway/billing/memory-balance-holds";
import { createUsageWriter, type UsageWriter } from "./gateway/billing/usage-writer";
import type { Clock } from "./gateway/clock";
import { createAccountReader } from "./gateway/accounts/account-reader";
import { createGateway, type Gateway } from "./gateway";
import { createApiKeyAuthenticator, type ApiKeyAuthenticator } from "./gateway/keys/api-key-authenticator";
import { findApiKeyByHash } from "./gateway/keys/find-api-key-by-hash";
import { createMemoryRateLimiter, type RateLimiter, type RateLimits } from "./gateway/limits/rate-limiter";
import { createRedisRateLimiter } from "./gateway/limits/redis-rate-limiter";
import {
  createMemoryFailureCounts,
  createRedisFailureCounts,
  createSignInThrottle,
  PASSWORD_RESET_LIMITS,
  type SignInThrottle,
} from "./auth/sign-in-throttle";
import { createJsonLogger, type Logger } from "./gateway/logger";
import type { Registry } from "prom-client";
import { combineObservers } from "./gateway/observe/request-record";
import { createGatewayMetrics } from "./observability/gateway-metrics";
import { createLineBuffer } from "./observability/line-buffer";
import { createRequestLog } from "./observability/request-log";
import { createSafeImageFetcher } from "./gateway/net/safe-image-fetch";
import { createHttpTransport } from "./gateway/providers/call-upstream";
import { createChannelStats, type ChannelStats } from "./gateway/routing/channel-stats";
import { startChannelStatsPersistence, type ChannelStatsPersistence } from "./services/channel-stats";
import { createDemoUpstream } from "./gateway/providers/demo/demo-upstream";
import { createProviderRegistry, type ProviderRegistry } from "./gateway/providers/registry";
import { createCircuitBreaker } from "./gateway/routing/circuit-breaker";
import { markChannelBroken } from "./services/channels";
import { createCatalog, type Catalog } from "./gateway/routing/catalog";
import { loadCatalog } from "./gateway/routing/load-catalog";
import { createMailer, type Mailer } from "./mail/mailer";
import { resolveSecrets } from "./secrets";

/** The process-wide composition root: one of each, shared by the node:http entry, Next route handlers and tRPC. */
export interface Container {
  env: Env;
  database: DatabaseHandle;
  db: Database;
  logger: Logger;
  secretBox: SecretBox;
  authSecret: string;
  /** The session secret a rotation replaced, still accepted (AUTH_SECRET_PREVIOUS). */
  previousAuthSecret: string | undefined;
  changes: ChangeBus;
  authenticator: ApiKeyAuthenticator;
  catalog: Catalog;
  holds: BalanceHolds;
  usageWriter: UsageWriter;
  /** Live per channel+model statistics (in memory), and their periodic persistence. */
  channelStats: ChannelStats;
  channelStatsPersistence: ChannelStatsPersistence;
  gateway: Gateway;
  /** The Prometheus registry `/metrics` renders; null unless METRICS_TOKEN or METRICS_PORT is set. */
  metrics: Registry | null;
  /** The upstream adapters and transports the gateway calls through (admins' channel tests use them too). */
  providers: ProviderRegistry;
  /** Failed sign-ins per account and address (in Redis when configured, so every instance counts together). */
  signInThrottle: SignInThrottle;
  /** Password reset requests per account and address, counted the same way. */
  resetThrottle: SignInThrottle;
  /** Outgoing mail: SMTP_URL, or the log when unset. */
  mailer: Mailer;
  /** Whether this instance can take traffic: database, migrations, Redis, usage writer (`/readyz`). */
  readiness: () => Promise<ReadinessReport>;
  /** Flushes pending usage and closes upstream pools and the database. */
  close(): Promise<void>;
}

export interface ContainerOptions {
  env: Env;
  /** An already-open database (tests); otherwise opened from env. */
  database?: DatabaseHandle;
  logger?: Logger;
  /**
   * Where JSON log lines go (stderr by default): the default logger's and the request log's. A test passes its own
   * capture here, with LOG_LEVEL, rather than a logger, to see both.
   */
  logWrite?: (chunk: string) => void;
  clock?: Clock;
  random?: () => number;
  /** Run first-start work: built-in catalog, demo channel, env channels, admin user. Default true. */
  bootstrap?: boolean;
}

const ID_RANDOM_BYTES = 10;
/** Entropy drawn 4 KiB at a time: a draw per id would be a system call per id, and ids are made twice per call. */
const idEntropy = randomBytes(4096);
let idEntropyUsed = idEntropy.length;

/** Time-ordered and unguessable: the time in base 36, then 80 random bits in hex. */
export function newGenerationId(): string {
  if (idEntropyUsed + ID_RANDOM_BYTES > idEntropy.length) {
    randomFillSync(idEntropy);
    idEntropyUsed = 0;
  }
  const random = idEntropy.toString("hex", idEntropyUsed, idEntropyUsed + ID_RANDOM_BYTES);
  idEntropyUsed += ID_RANDOM_BYTES;
  return `gen-${Date.now().toString(36)}-${random}`;
}

/**
 * The serving process's embedded database thread yields the core to the event loop. Measured with `npm run bench`
 * (non-streamed, c=16, gateway pinned to one core): with the database in the main thread, 2,600–3,200 calls/s at
 * 307–362 µs of CPU each; on a thread of the same priority the two took turns, 1,000–2,200 calls/s at 460–990 µs; at
 * nice 19, 3,600–3,900 calls/s at 255–285 µs, the writer catching up in the event loop's idle moments and, when it
 * falls a bound behind, holding new calls back (those waits are the p99, 50–60 ms, as the commits were before).
 */
const SERVER_DATABASE_THREAD_NICENESS = 19;

export async function createContainer(options: ContainerOptions): Promise<Container> {
  const { env } = options;
  const logWrite = options.logWrite ?? ((chunk: string) => void process.stderr.write(chunk));
  const logger = options.logger ?? createJsonLogger(env.LOG_LEVEL, logWrite);
  const clock = options.clock ?? Date.now;
  const database =
    options.database ??
    (env.DATABASE_URL !== undefined
      ? openDatabase({ kind: "postgres", url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE })
      : openDatabase({
          kind: "pglite",
          dataDir: env.PGLITE_DIR,
          sharedBuffers: env.PGLITE_SHARED_BUFFERS,
          niceness: SERVER_DATABASE_THREAD_NICENESS,
        }));
  const { db } = database;
  await migrate(database);

  const secrets = resolveSecrets(env, logger);
  const secretBox = createSecretBox(secrets.encryptionKey, secrets.previousEncryptionKeys);
  const changes = await createChangeBus(database, logger, { listen: true });
  if (options.bootstrap !== false) await bootstrap({ db, env, secretBox, changes: null, logger });

  const catalog = await createCatalog({
    load: () =>
      loadCatalog(
        db,
        (ciphertext) => secretBox.decrypt(ciphertext),
        env.PRICE_MARKUP_PERCENT,
        (channel, error) =>
          logger.error("channel left out of routing: its key cannot be decrypted", { channel, error }),
      ),
    logger,
  });
  // ── Rate limits: a key without its own limits gets the configured defaults; one Redis counts for every process
  // when REDIS_URL is set, otherwise this process counts alone in memory.
  const keyLimitDefaults: RateLimits = {
    requestsPerMinute: env.RATE_LIMIT_REQUESTS_PER_MINUTE ?? null,
    tokensPerMinute: env.RATE_LIMIT_TOKENS_PER_MINUTE ?? null,
    concurrentRequests: env.RATE_LIMIT_CONCURRENT_REQUESTS ?? null,
  };
  // One retry, then the command fails and the gateway admits without limits, rather than every call hanging on an
  // unreachable Redis.
  const redis = env.REDIS_URL === undefined ? null : new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis?.on("error", (error: unknown) => logger.warn("redis connection error", { error }));
  const rateLimiter: RateLimiter =
    redis === null
      ? createMemoryRateLimiter({ clock })
      : createRedisRateLimiter({
          redis,
          onError: (error) => logger.error("recording tokens in redis failed", { error }),
        });
  // ── end of rate limits

  const authenticator = createApiKeyAuthenticator({
    findByHash: (hash) => findApiKeyByHash(db, hash, keyLimitDefaults),
    clock,
  });
  const accounts = createAccountReader(db);
  // PostgreSQL may be shared by several gateway processes: holds live there. PGlite has one process: holds live in it.
  const memoryHolds: MemoryBalanceHolds | null =
    database.kind === "pglite"
      ? createMemoryBalanceHolds({
          readBalanceNano: (userId) => readBalanceNano(db, userId),
          readKey: async (apiKeyId) => {
            const key = await accounts.keyDetails(apiKeyId);
            return key === null ? null : { ...key, active: key.revokedAt === null && key.disabledAt === null };
          },
          clock,
        })
      : null;
  const callHolds: BalanceHolds | null =
    memoryHolds === null
      ? createDatabaseBalanceHolds({
          statements: holdStatementsOf(database),
          clock,
          ttlMs: env.BALANCE_HOLD_TTL_MS,
          onSettleError: (error) => logger.error("settling a balance hold failed; its batch releases it", { error }),
        })
      : null;
  // Several processes on PostgreSQL: each leases slices of balances and admits calls against them in memory.
  const leasedHolds: LeasedBalanceHolds | null =
    callHolds !== null && env.BALANCE_LEASES && database.leaseStatements !== undefined
      ? createLeasedBalanceHolds({
          statements: database.leaseStatements,
          callHolds,
          clock,
          publishRecall: (userId) => changes.publish({ topic: "balance-lease-recall", userId }),
          onError: (message, error) => logger.error(message, { error }),
          // Given back after a sixth of its life unused (5 s of the default 30).
          tuning: { ttlMs: env.BALANCE_LEASE_TTL_MS, idleMs: Math.floor(env.BALANCE_LEASE_TTL_MS / 6) },
        })
      : null;
  const holds: BalanceHolds = memoryHolds ?? leasedHolds ?? callHolds!;
  const expiredHoldSweep = startExpiredHoldSweep(
    holds,
    logger,
    leasedHolds === null ? env.BALANCE_HOLD_TTL_MS : Math.min(env.BALANCE_HOLD_TTL_MS, env.BALANCE_LEASE_TTL_MS),
  );
  const autoTopUp = createAutoTopUpFromEnv({ env, db, logger, clock });
  const usageWriter = createUsageWriter({
    db,
    logger,
    flushIntervalMs: env.USAGE_FLUSH_MS,
    onBatchWritten: (written) => (memoryHolds ?? leasedHolds)?.onBatchWritten(written),
    holdsInDatabase: memoryHolds === null,
    leaseOf: leasedHolds === null ? undefined : (generationId) => leasedHolds.leaseOf(generationId),
    // After each batch the written balances are checked against the users' auto top-up thresholds (in the background).
    onBalancesWritten: (balances) => autoTopUp.onBalancesWritten(balances),
  });

  changes.subscribe(async (change) => {
    if (change.topic === "api-key-revoked") authenticator.invalidate(change.hash);
    else if (change.topic === "api-key-changed") {
      // Its spend limit decides how its calls are admitted (leases or holds), and its state whether they are at all.
      authenticator.invalidateKey(change.id);
      memoryHolds?.forgetKey(change.id);
    } else if (change.topic === "balance-changed") {
      memoryHolds?.forgetBalance(change.userId);
      await leasedHolds?.forgetBalance(change.userId);
    } else if (change.topic === "balance-lease-recall") await leasedHolds?.recall(change.userId);
    else if (change.topic === "changes-missed") {
      // A revoke, a key or balance change or a recall may have been missed: nothing cached on them is trusted.
      authenticator.invalidateAll();
      await leasedHolds?.forgetAllBalances();
      await catalog.reload();
    } else await catalog.reload();
  });

  const http = createHttpTransport({
    connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT_MS,
    firstByteTimeoutMs: env.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
    idleTimeoutMs: env.UPSTREAM_IDLE_TIMEOUT_MS,
    totalTimeoutMs: env.UPSTREAM_TOTAL_TIMEOUT_MS,
  });
  const providers = createProviderRegistry({
    http: http.send,
    demo: createDemoUpstream(clock, { streamDelayMs: env.DEMO_STREAM_DELAY_MS }),
  });
  const imageFetcher = createSafeImageFetcher({
    maxBytes: env.IMAGE_FETCH_MAX_BYTES,
    timeoutMs: env.IMAGE_FETCH_TIMEOUT_MS,
    allowPrivateAddresses: env.IMAGE_FETCH_ALLOW_PRIVATE_ADDRESSES,
  });
  const channelStats = createChannelStats(clock);
  const channelStatsPersistence = await startChannelStatsPersistence({
    db,
    stats: channelStats,
    logger,
    clock,
    intervalMs: env.CHANNEL_STATS_FLUSH_MS,
  });
  const breaker = createCircuitBreaker({
    clock,
    failureThreshold: env.CIRCUIT_BREAKER_FAILURES,
    baseCooldownMs: env.CIRCUIT_BREAKER_COOLDOWN_MS,
    maxCooldownMs: 300_000,
  });
  // Metrics cost a little on every call: kept only when something can scrape them.
  const metrics =
    env.METRICS_TOKEN !== undefined || env.METRICS_PORT !== undefined
      ? createGatewayMetrics({ catalog, breaker, usageWriter, clock })
      : null;
  // The request log is at level info: LOG_LEVEL=warn silences it as it does every other info line.
  const requestLines =
    env.REQUEST_LOG && (env.LOG_LEVEL === "debug" || env.LOG_LEVEL === "info") ? createLineBuffer(logWrite) : null;
  const observer = combineObservers(
    [
      ...(requestLines === null ? [] : [createRequestLog(requestLines, clock)]),
      ...(metrics === null ? [] : [metrics.observer]),
    ],
    (error) => logger.error("a request observer failed; the request itself was answered", { error }),
  );
  const gateway = createGateway({
    authenticator,
    catalog,
    holds,
    usageWriter,
    providers,
    breaker,
    channelStats,
    routing: { maxAttempts: env.ROUTING_MAX_ATTEMPTS, maxTotalMs: env.ROUTING_MAX_TOTAL_MS },
    reportBrokenChannel: (channelId, reason) => {
      markChannelBroken(db, changes, channelId, reason).catch((error: unknown) =>
        logger.error("recording a broken channel failed", { error, channelId }),
      );
    },
    clock,
    random: options.random ?? Math.random,
    newGenerationId,
    logger,
    observer,
    accounts,
    streamKeepAliveMs: env.STREAM_KEEPALIVE_MS,
    fetchImage: imageFetcher.fetch,
    rateLimiter,
  });

  const mailer = createMailer({ smtpUrl: env.SMTP_URL, from: env.EMAIL_FROM, logger });
  let closing: Promise<void> | undefined;
  return {
    env,
    database,
    db,
    logger,
    secretBox,
    authSecret: secrets.authSecret,
    previousAuthSecret: secrets.previousAuthSecret,
    changes,
    authenticator,
    catalog,
    holds,
    usageWriter,
    channelStats,
    channelStatsPersistence,
    gateway,
    metrics: metrics?.registry ?? null,
    providers,
    signInThrottle: createSignInThrottle(
      redis === null
        ? createMemoryFailureCounts()
        : createRedisFailureCounts(redis, (error) => logger.error("sign-in throttle: redis failed", { error })),
    ),
    resetThrottle: createSignInThrottle(
      redis === null
        ? createMemoryFailureCounts()
        : createRedisFailureCounts(
            redis,
            (error) => logger.error("reset throttle: redis failed", { error }),
            "tollgate:password-reset:",
          ),
      PASSWORD_RESET_LIMITS,
    ),
    mailer,
    readiness: createReadinessProbe({
      db,
      redis,
      usageBackpressure: () => usageWriter.backpressure(),
      expectedMigrations: shippedMigrationCount(defaultMigrationsFolder),
    }),
    close() {
      closing ??= (async () => {
        clearInterval(expiredHoldSweep);
        await usageWriter.close();
        requestLines?.flush();
        // After the last batch: what the leases still hold goes back to the balances.
        await leasedHolds?.close();
        await channelStatsPersistence.close();
        await changes.close();
        await http.close();
        await imageFetcher.close();
        mailer.close();
        await redis?.quit();
        await database.close();
      })();
      return closing;
    },
  };
}

function holdStatementsOf(database: DatabaseHandle): HoldStatements {
  if (database.holdStatements === undefined) throw new Error("balance holds in the database need PostgreSQL");
  return database.holdStatements;
}

/**
 * Every process releases expired holds and leases now and then (the release is idempotent across processes): a hold
 * outlives its call, and a lease its renewals, only when the process holding it died.
 */
function startExpiredHoldSweep(holds: BalanceHolds, logger: Logger, ttlMs: number): NodeJS.Timeout {
  const timer = setInterval(
    () => {
      holds.releaseExpired().then(
        (released) => {
          if (released > 0) logger.warn("released expired balance holds", { released });
        },
        (error: unknown) => logger.error("releasing expired balance holds failed", { error }),
      );
    },
    Math.min(60_000, Math.max(1_000, Math.floor(ttlMs / 4))),
  );
  timer.unref();
  return timer;
}

const CONTAINER_KEY = Symbol.for("tollgate.container");
type GlobalWithContainer = typeof globalThis & { [CONTAINER_KEY]?: Promise<Container> };

/**
 * The one container of this process. Kept on globalThis because Next bundles server code separately from
 * src/main.ts: module-level singletons would be duplicated, and PGlite allows one client per data directory.
 */
export function getContainer(): Promise<Container> {
  if (process.env.NEXT_PHASE === "phase-production-build") return Promise.reject(new ContainerDuringBuildError());
  const holder = globalThis as GlobalWithContainer;
  holder[CONTAINER_KEY] ??= createContainer({ env: processEnv() });
  return holder[CONTAINER_KEY];
}

/** Installs an already-built container as the process's one (the production entry and tests do this). */
export function setContainer(container: Promise<Container>): void {
  (globalThis as GlobalWithContainer)[CONTAINER_KEY] = container;
}

/**
 * `next build` renders every page it can ahead of time, in processes with the operator's environment. A page that
 * reached for the container there would open DATA_DIR's database and run bootstrap from the build, while a running
 * server may hold the same PGlite directory (one process only). Pages that need the container are request-time:
 * they call a dynamic API (`connection()`, `headers()`, `cookies()`, `searchParams`) before it.
 */
export class ContainerDuringBuildError extends Error {
  constructor() {
    super("The container is not available while `next build` prerenders: make the page dynamic (await connection()).");
    this.name = "ContainerDuringBuildError";
  }
}
