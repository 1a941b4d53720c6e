import Stripe from "stripe";
import type { Env } from "~/env";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import type { TopUpLimits } from "./amounts";

/** Everything Stripe top-ups need from the environment, read once per environment object. */
export interface StripeBillingConfig {
  /** Null when STRIPE_SECRET_KEY is unset: top-ups are "not configured", everything else works. */
  stripe: Stripe | null;
  webhookSecret: string | null;
  limits: TopUpLimits;
  /** Public origin without a trailing slash, for Checkout's success and cancel pages. */
  publicUrl: string;
  autoTopUpMinIntervalMs: number;
}

/**
 * A Stripe client for the configured key. `apiBase` (STRIPE_API_BASE) points the SDK elsewhere, for a local fake in
 * tests or a proxy; the SDK takes it as host, port and protocol.
 */
export function createStripeClient(secretKey: string, apiBase?: string): Stripe {
  if (apiBase === undefined) return new Stripe(secretKey, { telemetry: false });
  const url = new URL(apiBase);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return new Stripe(secretKey, {
    host: url.hostname,
    port: url.port === "" ? (protocol === "http" ? 80 : 443) : Number(url.port),
    protocol,
    telemetry: false,
  });
}

const configs = new WeakMap<Env, StripeBillingConfig>();

/** Memoized per environment object, so the process shares one Stripe client (and its connection pool). */
export function stripeBillingConfig(env: Env): StripeBillingConfig {
  let config = configs.get(env);
  if (config === undefined) {
    const minNano = parseUsdToNano(env.TOP_UP_MIN_USD);
    const maxNano = parseUsdToNano(env.TOP_UP_MAX_USD);
    if (minNano > maxNano) throw new Error("TOP_UP_MIN_USD is larger than TOP_UP_MAX_USD");
    config = {
      stripe:
        env.STRIPE_SECRET_KEY === undefined ? null : createStripeClient(env.STRIPE_SECRET_KEY, env.STRIPE_API_BASE),
      webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? null,
      limits: { presetsNano: env.TOP_UP_PRESETS_USD.map(parseUsdToNano), minNano, maxNano },
      publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ""),
      autoTopUpMinIntervalMs: env.AUTO_TOP_UP_MIN_INTERVAL_MS,
    };
    configs.set(env, config);
  }
  return config;
}
