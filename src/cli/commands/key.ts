import { createApiKey, describeApiKey, listApiKeys, revokeApiKey } from "~/server/services/api-keys";
import { requireUserByEmail } from "~/server/services/users";
import { optionString, requiredString, UsageError, type CommandSpec } from "../command";
import { formatDate, formatTable } from "../format";
import { readEmail } from "./user";

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
  },
  async run(input, { db }) {
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
    const user = await requireUserByEmail(db, readEmail(input));
    const { key, plaintext } = await createApiKey(db, { userId: user.id, name, allowedModels });
    return {
      text: [
        `Created key "${key.name}" (id ${key.id}, prefix ${key.prefix}) for ${user.email}` +
          (allowedModels === null ? "." : `, limited to ${allowedModels.join(", ")}.`),
        "Store it now: it is not shown again.",
        plaintext,
      ].join("\n"),
      json: { id: key.id, name: key.name, prefix: key.prefix, allowedModels, key: plaintext },
    };
  },
};

export const keyRevoke: CommandSpec = {
  path: ["key", "revoke"],
  summary: "Revoke a key by id or display prefix; running gateways refuse it from the next request",
  positionals: [{ name: "ID_OR_PREFIX", description: "The key's id, or its prefix such as sk-gw-1a2b3c4d" }],
  options: {
    email: { type: "string", valueName: "EMAIL", description: "Only consider this user's keys" },
  },
  async run(input, { db, changes }) {
    const reference = input.positionals[0]!;
    const email = optionString(input, "email") === undefined ? undefined : readEmail(input);
    const userId = email === undefined ? undefined : (await requireUserByEmail(db, email)).id;
    const key = await revokeApiKey(db, changes, { idOrPrefix: reference, userId });
    return {
      text: `Revoked key "${key.name}" (id ${key.id}, prefix ${key.prefix})`,
      json: describeApiKey(key),
    };
  },
};

export const keyList: CommandSpec = {
  path: ["key", "list"],
  summary: "List a user's keys, newest first (never the keys themselves)",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "Owner of the keys" },
  },
  async run(input, { db }) {
    const user = await requireUserByEmail(db, readEmail(input));
    const keys = await listApiKeys(db, user.id);
    const text =
      keys.length === 0
        ? `${user.email} has no keys`
        : formatTable(
            ["ID", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
            keys.map((key) => [
              key.id,
              key.name,
              key.prefix,
              formatDate(key.createdAt),
              formatDate(key.lastUsedAt),
              formatDate(key.revokedAt),
            ]),
          );
    return { text, json: keys.map(describeApiKey) };
  },
};

export const keyCommands = [keyCreate, keyRevoke, keyList];
