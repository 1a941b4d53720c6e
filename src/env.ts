import { z } from "zod";

/**
 * The only reader of process.env. Everything else receives configuration from here (or, in the gateway core,
 * from the container), so tests can build any configuration without touching the process environment.
 */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

/** A positive whole number, or unset (an empty value counts as unset). */
/** Node fires a timer set past this at once (after 1 ms), so no timeout may be longer. */
const MAX_TIMER_MS = 2_147_483_647;
const optionalPositiveInteger = optionalString.pipe(
  z.coerce.number<string | undefined>().int().positive().max(MAX_TIMER_MS).optional(),
);

/** A USD amount Stripe can charge: whole cents, so at most two decimals ("25", "12.50"). */
const usdCents = z
  .string()
  .trim()
  .regex(/^\d+(\.\d{1,2})?$/, "a USD amount with at most 2 decimals");

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().default("0.0.0.0"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Public origin used in links (Stripe redirects, emails). Defaults to http://localhost:PORT. */
  PUBLIC_URL: optionalString,
  DATABASE_URL: optionalString,
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  PGLITE_DIR: z.string().default("./.data/pglite"),
  /**
   * The embedded server's page cache. PGlite allocates it inside its WebAssembly memory, resident from the start: its
   * default of 128MB was a third of an idle gateway's memory. The operating system caches the data files as well.
   */
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^[1-9][0-9]*(kB|MB|GB)$/, "a size such as 16MB")
    .default("16MB"),
  /** Where generated secrets and the CLI's control socket live when nothing else is configured. */
  DATA_DIR: z.string().default("./.data"),
  AUTH_SECRET: optionalString,
  /** 32 bytes, hex or base64, for AES-256-GCM encryption of upstream keys at rest. */
  ENCRYPTION_KEY: optionalString,
  /**
   * While rotating ENCRYPTION_KEY: the key it replaces (comma-separated for several), still read but never written.
   * `tollgate secrets reencrypt` then rewrites every channel key under the new one, after which this can go.
   */
  ENCRYPTION_KEY_PREVIOUS: optionalString,
  /** While rotating AUTH_SECRET: the secret it replaces, so sessions signed with it stay valid until they expire. */
  AUTH_SECRET_PREVIOUS: optionalString,
  /**
   * Outgoing mail (password resets, address confirmations): `smtp://user:pass@host:587` or `smtps://…:465`. Unset,
   * mails are written to the server log instead (for local starts only: the log then holds live links).
   */
  SMTP_URL: optionalString,
  EMAIL_FROM: z.string().trim().min(3).default("Tollgate <no-reply@localhost>"),
  /** Sign-in with GitHub, Google, and a company's OpenID Connect provider, each when its client id is set. */
  AUTH_GITHUB_ID: optionalString,
  AUTH_GITHUB_SECRET: optionalString,
  AUTH_GOOGLE_ID: optionalString,
  AUTH_GOOGLE_SECRET: optionalString,
  /** The provider's issuer URL; its `/.well-known/openid-configuration` names the rest. */
  AUTH_OIDC_ISSUER: optionalString,
  AUTH_OIDC_ID: optionalString,
  AUTH_OIDC_SECRET: optionalString,
  /** What the sign-in button says: "Continue with …". */
  AUTH_OIDC_NAME: z.string().trim().min(1).default("single sign-on"),
  ADMIN_EMAIL: optionalString,
  ADMIN_PASSWORD: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString,
  GEMINI_API_KEY: optionalString,
  GEMINI_BASE_URL: optionalString,
  DEEPSEEK_API_KEY: optionalString,
  DEEPSEEK_BASE_URL: optionalString,
  OPENROUTER_API_KEY: optionalString,
  OPENROUTER_BASE_URL: optionalString,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /**
   * One JSON line per /v1 request (`"message":"request"`, level info, so LOG_LEVEL=warn silences it too): request id,
   * generation id, account, key prefix, model, channel, status, tokens, cost, latency, client address, trace id.
   */
  REQUEST_LOG: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  /**
   * Prometheus metrics. With METRICS_PORT, `/metrics` is served on a listener of its own (METRICS_HOST, loopback by
   * default); with only METRICS_TOKEN, on PORT. Whenever METRICS_TOKEN is set the scrape must send it as a bearer
   * token. Neither set: no metrics are kept.
   */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, "at least 16 characters").optional()),
  METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(65535).optional()),
  METRICS_HOST: z.string().default("127.0.0.1"),
  /** Serve the dashboard (Next.js) next to /v1; "false" runs the API alone (no build needed). */
  SERVE_DASHBOARD: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  /** Largest accepted /v1 request body; larger ones get 413. */
  MAX_REQUEST_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(20 * 1024 * 1024),
  /**
   * Upstream time limits of channels that set none of their own. Connecting; waiting for the response headers (a
   * reasoning model may think before answering; failover tries the next candidate after it); silence between two
   * body chunks; and the whole call (OpenAI's SDKs give up after 10 minutes too).
   */
  UPSTREAM_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().max(MAX_TIMER_MS).default(10_000),
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: optionalPositiveInteger,
  UPSTREAM_IDLE_TIMEOUT_MS: optionalPositiveInteger,
  UPSTREAM_TOTAL_TIMEOUT_MS: z.coerce.number().int().positive().max(MAX_TIMER_MS).default(600_000),
  /** Deprecated single limit of earlier versions: the first-byte and idle limits when those are unset. */
  UPSTREAM_TIMEOUT_MS: optionalPositiveInteger,
  /** Most upstream attempts per call: the first candidate plus failovers to the next ones. */
  ROUTING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** After this long since its first attempt, a call tries no further candidate. */
  ROUTING_MAX_TOTAL_MS: z.coerce.number().int().positive().default(120_000),
  /** Consecutive failures of one channel+model that open its circuit (it is skipped until the cooldown ends). */
  CIRCUIT_BREAKER_FAILURES: z.coerce.number().int().min(1).default(3),
  /** First cooldown of an open circuit; it doubles each time the circuit reopens, up to five minutes. */
  CIRCUIT_BREAKER_COOLDOWN_MS: z.coerce.number().int().positive().default(10_000),
  /** Group-commit window of the usage writer: how long a finished call's generation row and debit may wait. */
  USAGE_FLUSH_MS: z.coerce.number().int().positive().max(MAX_TIMER_MS).default(100),
  /** How often each process writes its channel statistics to the database and reads back every process's totals. */
  CHANNEL_STATS_FLUSH_MS: z.coerce.number().int().positive().default(60_000),
  /**
   * Pause between the words of the offline demo model's streamed answers, so it streams at a pace a person can watch
   * (and stop); 0 sends the whole answer at once.
   */
  DEMO_STREAM_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** Idle time before a waiting stream gets an SSE keep-alive comment, and between comments. */
  STREAM_KEEPALIVE_MS: z.coerce.number().int().positive().default(3_000),
  /** Largest image the gateway downloads from an image URL for providers that need images inline (Gemini). */
  IMAGE_FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Longest time to download one image URL, redirects included; then the request gets a 400. */
  IMAGE_FETCH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * Let image URLs point at private, loopback and link-local addresses. Only for a gateway whose clients may reach
   * the internal network anyway (images on an intranet); never on a public gateway.
   */
  IMAGE_FETCH_ALLOW_PRIVATE_ADDRESSES: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  /**
   * How long a call's balance hold lives if its process dies before settling it; then any gateway process releases
   * it. Longer than the longest call (a hold that expires while its call runs only loosens admission).
   */
  BALANCE_HOLD_TTL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 60_000),
  /**
   * On PostgreSQL, admit calls against balance leases held in the process (one statement per many calls) rather than
   * a hold statement per call (gateway/billing/leased-balance-holds.ts). Keys with a spend limit always use holds.
   */
  BALANCE_LEASES: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  /**
   * How long a balance lease lives without renewal: a process renews its leases every third of this, and the lease of
   * a process that died is released this long after its last renewal.
   */
  BALANCE_LEASE_TTL_MS: z.coerce.number().int().min(300).default(30_000),
  /** Platform markup on every model's prices, in percent (up to two decimals, e.g. 5.5); applied once per call. */
  PRICE_MARKUP_PERCENT: z
    .string()
    .regex(/^\d{1,4}(\.\d{1,2})?$/, "a percentage such as 5 or 5.5")
    .default("0")
    .transform((value) => BigInt(Math.round(Number(value) * 100))),
  /** Default requests per minute of a key without its own limit; unset = no default limit. */
  RATE_LIMIT_REQUESTS_PER_MINUTE: optionalPositiveInteger,
  /** Default tokens (prompt + completion) per minute of a key without its own limit; unset = no default limit. */
  RATE_LIMIT_TOKENS_PER_MINUTE: optionalPositiveInteger,
  /** Default concurrent requests of a key without its own limit; unset = no default limit. */
  RATE_LIMIT_CONCURRENT_REQUESTS: optionalPositiveInteger,
  /**
   * Redis shared by every gateway process for rate limits (`redis://host:6379`). Unset: each process counts in its
   * own memory, which is right for one process and wrong for several behind a load balancer.
   */
  REDIS_URL: optionalString,
  /** How long graceful shutdown waits for in-flight requests before closing them. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * On SIGTERM, how long /readyz answers 503 while requests are still served, before the server stops taking new
   * ones: set it to a little more than the load balancer's health-check interval × its unhealthy threshold.
   */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Stripe secret key (`sk_live_…`/`sk_test_…`). Unset: top-ups are off and the dashboard says so. */
  STRIPE_SECRET_KEY: optionalString,
  /** Signing secret of the webhook endpoint (`whsec_…`); the webhook refuses every event without it. */
  STRIPE_WEBHOOK_SECRET: optionalString,
  /** Where the Stripe API is reached, e.g. http://127.0.0.1:12111 for a local fake; unset = Stripe's own API. */
  STRIPE_API_BASE: optionalString.pipe(z.url().optional()),
  /** Top-up amounts offered as buttons, in USD with at most 2 decimals, comma-separated. */
  TOP_UP_PRESETS_USD: z
    .string()
    .default("10,25,50,100")
    .transform((value) => value.split(",").map((item) => item.trim()))
    .pipe(z.array(usdCents).min(1)),
  /** Smallest custom top-up, USD. */
  TOP_UP_MIN_USD: usdCents.default("5"),
  /** Largest custom top-up, USD. */
  TOP_UP_MAX_USD: usdCents.default("1000"),
  /** Auto top-up charges a user's saved card at most once per this many milliseconds, across all processes. */
  AUTO_TOP_UP_MIN_INTERVAL_MS: z.coerce.number().int().positive().default(3_600_000),
});

/** First-byte and idle limits default to the deprecated UPSTREAM_TIMEOUT_MS, then to five minutes. */
const resolvedEnvSchema = envSchema.transform(({ UPSTREAM_TIMEOUT_MS: legacyTimeoutMs, ...parsed }) => ({
  ...parsed,
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: parsed.UPSTREAM_FIRST_BYTE_TIMEOUT_MS ?? legacyTimeoutMs ?? 300_000,
  UPSTREAM_IDLE_TIMEOUT_MS: parsed.UPSTREAM_IDLE_TIMEOUT_MS ?? legacyTimeoutMs ?? 300_000,
}));

export type Env = z.infer<typeof resolvedEnvSchema>;

export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = resolvedEnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new Error(`Invalid environment: ${problems}`);
  }
  return parsed.data;
}

/** Loads `.env` from the working directory into process.env when the file exists (variables already set win). */
export function loadDotEnv(file = ".env"): void {
  try {
    process.loadEnvFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

let cached: Env | undefined;

/** The process environment, parsed once. */
export function env(): Env {
  cached ??= readEnv();
  return cached;
}
