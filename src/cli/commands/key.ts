import { parseUsdToNano } from "~/server/gateway/billing/money";
import {
  createApiKey,
  describeApiKey,
  findLiveApiKey,
  KEY_LIMIT_RESETS,
  listApiKeys,
  revokeApiKey,
  setApiKeyRateLimits,
  setApiKeyDisabled,
  updateApiKeyLimits,
  type ApiKeyDescription,
  type KeyLimitReset,
} from "~/server/services/api-keys";
import { requireUserByEmail } from "~/server/services/users";
import { optionString, requiredString, UsageError, type CommandInput, type CommandSpec } from "../command";
import type { CliContext } from "../context";
import { formatDate, formatTable } from "../format";
import { readEmail, readRateLimits } from "../option-readers";

/** `--limit-usd 25` → exact nano-USD; `none` (only where allowed) → null. */
function readLimit(option: string, text: string, allowNone: boolean): bigint | null {
  if (allowNone && text.trim().toLowerCase() === "none") return null;
  let nano: bigint;
  try {
    nano = parseUsdToNano(text);
  } catch {
    throw new UsageError(
      `--${option}: expected a USD amount with at most 9 decimals${allowNone ? " or none" : ""}, not ${JSON.stringify(text)}`,
    );
  }
  if (nano < 0n) throw new UsageError(`--${option}: a spend limit cannot be negative`);
  return nano;
}

function readReset(option: string, text: string, allowNone: boolean): KeyLimitReset | null {
  const value = text.trim().toLowerCase();
  if (allowNone && value === "none") return null;
  const reset = KEY_LIMIT_RESETS.find((candidate) => candidate === value);
  if (reset === undefined)
    throw new UsageError(`--${option}: expected ${KEY_LIMIT_RESETS.join(", ")}${allowNone ? " or none" : ""}`);
  return reset;
}

/** An ISO 8601 date-time with an explicit zone (or a bare date, taken as UTC midnight), so nothing depends on TZ. */
export function readExpiry(option: string, text: string, allowNone: boolean): Date | null {
  const value = text.trim();
  if (allowNone && value.toLowerCase() === "none") return null;
  const zoned = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/i;
  const date = zoned.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`--${option}: expected an ISO date such as 2030-01-31 or 2030-01-31T12:00:00Z`);
  return date;
}

/** `$25 daily`, `$5 total`, or `-` without a limit. */
function describeLimit(key: ApiKeyDescription): string {
  if (key.spendLimitUsd === null) return "-";
  return `$${key.spendLimitUsd} ${key.limitReset ?? "total"}`;
}

async function readOwner(input: CommandInput, db: CliContext["db"]): Promise<string | undefined> {
  return optionString(input, "email") === undefined ? undefined : (await requireUserByEmail(db, readEmail(input))).id;
}

const KEY_REFERENCE = { name: "ID_OR_PREFIX", description: "The key's id, or its prefix such as sk-gw-1a2b3c4d" };
const OWNER_OPTION = {
  type: "string",
  valueName: "EMAIL",
  description: "Only consider this user's keys",
} as const;

export const keyCreate: CommandSpec = {
  path: ["key", "create"],
  summary: "Create an API key for a user; the key is printed once, alone on the last line",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "Owner of the key" },
    name: { type: "string", valueName: "NAME", required: true, description: "A label to recognise the key by" },
    models: {
      type: "string",
      valueName: "IDS",
      description: "Only these models, comma-separated public ids (default: every model)",
    },
    "limit-usd": {
      type: "string",
      valueName: "AMOUNT",
      description: "Most the key may spend per reset period, or in total without --limit-reset",
    },
    "limit-reset": {
      type: "string",
      valueName: "PERIOD",
      description: "When the limit starts over: daily, weekly (Mondays) or monthly, in UTC",
    },
    expires: { type: "string", valueName: "ISO", description: "When the key stops working, e.g. 2030-01-31T00:00:00Z" },
  },
  async run(input, { db, actor }) {
    const name = requiredString(input, "name").trim();
    if (name === "") throw new UsageError("--name must not be blank");
    const models = optionString(input, "models");
    const allowedModels =
      models === undefined
        ? null
        : models
            .split(",")
            .map((id) => id.trim())
            .filter(Boolean);
    if (allowedModels !== null && allowedModels.length === 0) throw new UsageError("--models must name a model");
    const limitText = optionString(input, "limit-usd");
    const resetText = optionString(input, "limit-reset");
    const expiresText = optionString(input, "expires");
    const spendLimitNano = limitText === undefined ? null : readLimit("limit-usd", limitText, false);
    const limitReset = resetText === undefined ? null : readReset("limit-reset", resetText, false);
    if (limitReset !== null && spendLimitNano === null) throw new UsageError("--limit-reset needs --limit-usd");
    const expiresAt = expiresText === undefined ? null : readExpiry("expires", expiresText, false);
    if (expiresAt !== null && expiresAt.getTime() <= Date.now())
      throw new UsageError("--expires must be in the future");

    const user = await requireUserByEmail(db, readEmail(input));
    const { key, plaintext } = await createApiKey(
      db,
      {
        userId: user.id,
        name,
        allowedModels,
        spendLimitNano,
        limitReset,
        expiresAt,
      },
      actor,
    );
    const described = describeApiKey(key);
    const limits = [
      allowedModels === null ? null : `limited to ${allowedModels.join(", ")}`,
      spendLimitNano === null ? null : `spend limit ${describeLimit(described)}`,
      expiresAt === null ? null : `expires ${formatDate(expiresAt)}`,
    ].filter((part) => part !== null);
    return {
      text: [
        `Created key "${key.name}" (id ${key.id}, prefix ${key.prefix}) for ${user.email}` +
          (limits.length === 0 ? "." : `, ${limits.join(", ")}.`),
        "Store it now: it is not shown again.",
        plaintext,
      ].join("\n"),
      // A fixed shape that scripts parse; `key list --json` has the limits.
      json: { id: key.id, name: key.name, prefix: key.prefix, allowedModels, key: plaintext },
    };
  },
};

export const keyRevoke: CommandSpec = {
  path: ["key", "revoke"],
  summary: "Revoke a key by id or display prefix; running gateways refuse it from the next request",
  positionals: [KEY_REFERENCE],
  options: { email: OWNER_OPTION },
  async run(input, { db, changes, actor }) {
    const userId = await readOwner(input, db);
    const key = await revokeApiKey(db, changes, { idOrPrefix: input.positionals[0]!, userId }, actor);
    return {
      text: `Revoked key "${key.name}" (id ${key.id}, prefix ${key.prefix})`,
      json: describeApiKey(key),
    };
  },
};

export const keyList: CommandSpec = {
  path: ["key", "list"],
  summary: "List a user's keys with limits and spend, newest first (never the keys themselves)",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "Owner of the keys" },
  },
  async run(input, { db }) {
    const user = await requireUserByEmail(db, readEmail(input));
    const now = new Date();
    const keys = (await listApiKeys(db, user.id)).map((key) => describeApiKey(key, now));
    const text =
      keys.length === 0
        ? `${user.email} has no keys`
        : formatTable(
            ["ID", "NAME", "PREFIX", "STATUS", "LIMIT", "SPENT", "EXPIRES", "CREATED", "LAST USED"],
            keys.map((key) => [
              key.id,
              key.name,
              key.prefix,
              key.status,
              describeLimit(key),
              `$${key.periodSpendUsd}`,
              formatDate(key.expiresAt),
              formatDate(key.createdAt),
              formatDate(key.lastUsedAt),
            ]),
          );
    return { text, json: keys };
  },
};

export const keyLimit: CommandSpec = {
  path: ["key", "limit"],
  summary: "Set or remove a key's spend limit (and its reset period or expiry)",
  positionals: [KEY_REFERENCE],
  options: {
    usd: {
      type: "string",
      valueName: "AMOUNT|none",
      required: true,
      description: "Most the key may spend per period (or in total without a reset period); none removes the limit",
    },
    reset: {
      type: "string",
      valueName: "PERIOD",
      description: "daily, weekly (Mondays) or monthly in UTC, or none for a total limit (default: unchanged)",
    },
    expires: { type: "string", valueName: "ISO|none", description: "A new expiry, or none (default: unchanged)" },
    email: OWNER_OPTION,
  },
  async run(input, { db, changes, actor }) {
    const spendLimitNano = readLimit("usd", requiredString(input, "usd"), true);
    const resetText = optionString(input, "reset");
    const limitReset = resetText === undefined ? undefined : readReset("reset", resetText, true);
    if (spendLimitNano === null && limitReset != null) throw new UsageError("--reset needs a limit, not --usd none");
    const expiresText = optionString(input, "expires");
    const expiresAt = expiresText === undefined ? undefined : readExpiry("expires", expiresText, true);

    const userId = await readOwner(input, db);
    const found = await findLiveApiKey(db, { idOrPrefix: input.positionals[0]!, userId });
    const key = describeApiKey(
      await updateApiKeyLimits(db, changes, { id: found.id, spendLimitNano, limitReset, expiresAt }, actor),
    );
    return {
      text:
        `Key "${key.name}" (${key.prefix}): ` +
        (key.spendLimitUsd === null ? "no spend limit" : `spend limit ${describeLimit(key)}`) +
        `, spent ${`$${key.periodSpendUsd}`} this period` +
        (key.expiresAt === null ? "" : `, expires ${formatDate(key.expiresAt)}`),
      json: key,
    };
  },
};

export const keyRateLimit: CommandSpec = {
  path: ["key", "rate-limit"],
  summary: "Set a key's requests per minute, tokens per minute or concurrent requests (none: the default applies)",
  positionals: [KEY_REFERENCE],
  options: {
    rpm: { type: "string", valueName: "N|none", description: "Requests per minute" },
    tpm: { type: "string", valueName: "N|none", description: "Tokens (prompt + completion) per minute" },
    concurrency: { type: "string", valueName: "N|none", description: "Completions in flight at once" },
    email: OWNER_OPTION,
  },
  async run(input, { db, changes, actor }) {
    const limits = readRateLimits(input);
    const userId = await readOwner(input, db);
    const key = await setApiKeyRateLimits(db, changes, { idOrPrefix: input.positionals[0]!, userId, ...limits }, actor);
    const shown = (value: number | null) => (value === null ? "default" : String(value));
    return {
      text:
        `Key "${key.name}" (${key.prefix}): ${shown(key.requestsPerMinute)} requests/min, ` +
        `${shown(key.tokensPerMinute)} tokens/min, ${shown(key.concurrentRequests)} concurrent`,
      json: {
        id: key.id,
        requestsPerMinute: key.requestsPerMinute,
        tokensPerMinute: key.tokensPerMinute,
        concurrentRequests: key.concurrentRequests,
      },
    };
  },
};

function disableCommand(disabled: boolean): CommandSpec {
  const verb = disabled ? "disable" : "enable";
  return {
    path: ["key", verb],
    summary: disabled
      ? "Disable a key: running gateways refuse it from the next request until it is enabled again"
      : "Enable a disabled key again",
    positionals: [KEY_REFERENCE],
    options: { email: OWNER_OPTION },
    async run(input, { db, changes, actor }) {
      const userId = await readOwner(input, db);
      const key = await setApiKeyDisabled(db, changes, { idOrPrefix: input.positionals[0]!, userId, disabled }, actor);
      return {
        text: `${disabled ? "Disabled" : "Enabled"} key "${key.name}" (id ${key.id}, prefix ${key.prefix})`,
        json: describeApiKey(key),
      };
    },
  };
}

export const keyDisable = disableCommand(true);
export const keyEnable = disableCommand(false);

export const keyCommands = [keyCreate, keyRevoke, keyList, keyLimit, keyRateLimit, keyDisable, keyEnable];
