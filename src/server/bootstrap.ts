import { SYSTEM_ACTOR } from "./services/audit-actor";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Env } from "~/env";
import { NULL_CHANGE_BUS, type ChangeBus } from "./changes";
import { DEMO_CHANNEL_NAME, DEMO_MODEL } from "./catalog/demo-model";
import type { SecretBox } from "./crypto/secret-box";
import type { Database } from "./db";
import { channels, models, users } from "./db/schema";
import { postLedgerEntriesNow } from "./gateway/billing/ledger";
import { NANO_PER_USD } from "./gateway/billing/money";
import type { Logger } from "./gateway/logger";
import { DEMO_BASE_URL } from "./gateway/providers/demo/demo-upstream";
import { modelRowFromCatalog, readCatalogFile } from "./services/catalog";
import { addChannel, syncChannelEndpoints, type ChannelKind } from "./services/channels";
import { createUser } from "./services/users";

/** The committed catalog of real models and their list prices. */
export const BUILT_IN_CATALOG_PATH = path.resolve(process.cwd(), "src/server/catalog/catalog.json");

interface EnvChannel {
  name: string;
  kind: ChannelKind;
  provider: string;
  apiKey: string | undefined;
  baseUrl: string;
}

/** Channels configured by environment variables; base URLs default to the providers' real APIs. */
export function channelsFromEnv(env: Env): EnvChannel[] {
  return [
    {
      name: "openai",
      kind: "openai",
      provider: "openai",
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
    },
    {
      name: "anthropic",
      kind: "anthropic",
      provider: "anthropic",
      apiKey: env.ANTHROPIC_API_KEY,
      baseUrl: env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com/v1",
    },
    {
      name: "google",
      kind: "gemini",
      provider: "google",
      apiKey: env.GEMINI_API_KEY,
      baseUrl: env.GEMINI_BASE_URL ?? "https://generativelanguage.googleapis.com/v1beta",
    },
    {
      name: "deepseek",
      kind: "openai-compatible",
      provider: "deepseek",
      apiKey: env.DEEPSEEK_API_KEY,
      baseUrl: env.DEEPSEEK_BASE_URL ?? "https://api.deepseek.com/v1",
    },
    {
      name: "openrouter",
      kind: "openai-compatible",
      provider: "openrouter",
      apiKey: env.OPENROUTER_API_KEY,
      baseUrl: env.OPENROUTER_BASE_URL ?? "https://openrouter.ai/api/v1",
    },
  ].filter((channel): channel is EnvChannel => channel.apiKey !== undefined);
}

export interface BootstrapContext {
  db: Database;
  env: Env;
  secretBox: SecretBox;
  changes: ChangeBus | null;
  logger: Logger;
  /** Where the admin password is printed when one is generated. */
  print?: (line: string) => void;
}

/**
 * Idempotent first-start work, run on every boot: built-in models that are missing (operator edits are kept),
 * the offline demo channel, channels from the environment (their key and URL follow the environment), and an admin.
 */
export async function bootstrap(context: BootstrapContext): Promise<void> {
  const { db, env, secretBox, logger } = context;

  const builtIn = [DEMO_MODEL, ...(await readCatalogFile(BUILT_IN_CATALOG_PATH))];
  await db.insert(models).values(builtIn.map(modelRowFromCatalog)).onConflictDoNothing();

  const wanted = [
    { name: DEMO_CHANNEL_NAME, kind: "demo" as const, provider: "tollgate", apiKey: undefined, baseUrl: DEMO_BASE_URL },
    ...channelsFromEnv(env),
  ];
  for (const channel of wanted) {
    const [existing] = await db.select().from(channels).where(eq(channels.name, channel.name)).limit(1);
    if (existing === undefined) {
      const { endpointCount } = await addChannel(
        db,
        secretBox,
        NULL_CHANGE_BUS,
        {
          kind: channel.kind,
          name: channel.name,
          provider: channel.provider,
          baseUrl: channel.baseUrl,
          apiKey: channel.apiKey ?? null,
        },
        SYSTEM_ACTOR,
      );
      logger.info("channel created from configuration", { channel: channel.name, endpoints: endpointCount });
      continue;
    }
    const currentKey = storedKeyOf(existing.encryptedSecret, secretBox, logger, channel.name);
    if (existing.baseUrl !== channel.baseUrl || currentKey !== channel.apiKey) {
      await db
        .update(channels)
        .set({
          baseUrl: channel.baseUrl,
          encryptedSecret: channel.apiKey === undefined ? null : secretBox.encrypt(channel.apiKey),
          // A new key is the fix for a channel whose key was refused.
          brokenAt: null,
          brokenReason: null,
          updatedAt: new Date(),
        })
        .where(eq(channels.id, existing.id));
      logger.info("channel updated from configuration", { channel: channel.name });
    }
    // Endpoints for models it does not serve yet; the ones it has keep what an admin set (prices, upstream names).
    await syncChannelEndpoints(db, existing, undefined, { keepExisting: true });
  }

  await ensureAdmin(context);
}

/**
 * A configured channel's stored key, or null when it cannot be decrypted (ENCRYPTION_KEY changed, or a backup restored
 * without its key): the environment holds the key, so it is written again under the current ENCRYPTION_KEY rather
 * than failing the start.
 */
function storedKeyOf(
  encryptedSecret: string | null,
  secretBox: SecretBox,
  logger: Logger,
  channelName: string,
): string | null | undefined {
  if (encryptedSecret === null) return undefined;
  try {
    return secretBox.decrypt(encryptedSecret);
  } catch {
    logger.warn("a configured channel's stored key cannot be decrypted; storing the configured key again", {
      channel: channelName,
    });
    return null;
  }
}

const FIRST_ADMIN_CREDIT_NANO = 10n * NANO_PER_USD;

async function ensureAdmin({ db, env, logger, print }: BootstrapContext): Promise<void> {
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin")).limit(1);
  if (existing !== undefined) return;
  const email = env.ADMIN_EMAIL ?? "admin@tollgate.local";
  const generated = env.ADMIN_PASSWORD === undefined;
  const password = env.ADMIN_PASSWORD ?? randomBytes(12).toString("base64url");
  const admin = await createUser(db, { email, password, role: "admin", name: "Administrator" }, SYSTEM_ACTOR);
  // Starting credit, so that signing in as the admin, creating a key and calling the demo model works at once.
  await postLedgerEntriesNow(db, [
    {
      userId: admin.id,
      kind: "promo",
      externalId: `first-admin-${admin.id}`,
      amountNano: FIRST_ADMIN_CREDIT_NANO,
      note: "Starting credit of the first admin account",
    },
  ]);
  if (generated) {
    const say = print ?? ((line: string) => process.stdout.write(`${line}\n`));
    say(`Tollgate admin account created: ${email} / ${password}`);
    say("This password is shown once. Change it by setting ADMIN_PASSWORD on a fresh database, or use the CLI.");
  } else {
    logger.info("admin account created", { email });
  }
}
