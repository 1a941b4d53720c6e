import type { Env } from "~/env";
import type { ChangeBus } from "~/server/changes";
import type { Database } from "~/server/db";
import type { Clock } from "~/server/gateway/clock";
import type { Logger } from "~/server/gateway/logger";
import { createAutoTopUp, type AutoTopUp } from "./auto-top-up";
import { stripeBillingConfig } from "./config";
import type { StripeWebhookDeps } from "./webhook";

/** The webhook's dependencies, taken from the process's container (its fields of these names). */
export function stripeWebhookDeps(container: {
  env: Env;
  db: Database;
  logger: Logger;
  changes: ChangeBus;
}): StripeWebhookDeps {
  const config = stripeBillingConfig(container.env);
  return {
    db: container.db,
    stripe: config.stripe,
    logger: container.logger,
    webhookSecret: config.webhookSecret,
    balanceChanged: (userId) => container.changes.publish({ topic: "balance-changed", userId }),
  };
}

/**
 * Auto top-up configured from the environment, for the composition root: pass its `onBalancesWritten` to the usage
 * writer's callback of the same name. Without STRIPE_SECRET_KEY every check returns at once.
 */
export function createAutoTopUpFromEnv(deps: { env: Env; db: Database; logger: Logger; clock: Clock }): AutoTopUp {
  const config = stripeBillingConfig(deps.env);
  return createAutoTopUp({
    db: deps.db,
    stripe: config.stripe,
    clock: deps.clock,
    logger: deps.logger,
    minIntervalMs: config.autoTopUpMinIntervalMs,
  });
}
