import { setAccountDisabled } from "~/server/services/account-status";
import { setAccountRateLimits } from "~/server/services/api-keys";
import { createUser, passwordSchema, requireUserByEmail } from "~/server/services/users";
import { optionFlag, optionText, requiredString, UsageError, type CommandSpec } from "../command";
import { readEmail, readRateLimits } from "../option-readers";

export const userCreate: CommandSpec = {
  path: ["user", "create"],
  summary: "Create a user who can sign in to the dashboard (balance starts at zero)",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "Sign-in email" },
    password: { type: "string", valueName: "PASSWORD", required: true, description: "At least 8 characters" },
    admin: { type: "boolean", description: "Make the user an administrator" },
    name: { type: "string", valueName: "NAME", description: "Display name" },
  },
  async run(input, { db, actor }) {
    const email = readEmail(input);
    const password = passwordSchema.safeParse(requiredString(input, "password"));
    if (!password.success) throw new UsageError(`--password: ${password.error.issues[0]?.message ?? "invalid"}`);
    const name = optionText(input, "name");
    const user = await createUser(
      db,
      {
        email,
        password: password.data,
        role: optionFlag(input, "admin") ? "admin" : "user",
        name,
      },
      actor,
    );
    return {
      text: `Created ${user.role === "admin" ? "admin " : ""}user ${user.email} (id ${user.id})`,
      json: { id: user.id, email: user.email, name: user.name, role: user.role, createdAt: user.createdAt },
    };
  },
};

export const userRateLimit: CommandSpec = {
  path: ["user", "rate-limit"],
  summary: "Set an account's requests per minute, tokens per minute or concurrent requests across all its keys",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "The account's sign-in email" },
    rpm: { type: "string", valueName: "N|none", description: "Requests per minute (none: no account limit)" },
    tpm: { type: "string", valueName: "N|none", description: "Tokens (prompt + completion) per minute" },
    concurrency: { type: "string", valueName: "N|none", description: "Completions in flight at once" },
  },
  async run(input, { db, changes, actor }) {
    const limits = readRateLimits(input);
    const user = await requireUserByEmail(db, readEmail(input));
    const set = await setAccountRateLimits(db, changes, { userId: user.id, ...limits }, actor);
    const shown = (value: number | null) => (value === null ? "no limit" : String(value));
    return {
      text:
        `Account ${user.email}: ${shown(set.requestsPerMinute)} requests/min, ` +
        `${shown(set.tokensPerMinute)} tokens/min, ${shown(set.concurrentRequests)} concurrent (across its keys)`,
      json: { id: user.id, email: user.email, ...set },
    };
  },
};

export const userDisable: CommandSpec = {
  path: ["user", "disable"],
  summary: "Disable an account: its keys are refused on every gateway, its sessions end and it cannot sign in",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "The account's sign-in email" },
    reason: { type: "string", valueName: "TEXT", required: true, description: "Why; shown to the customer at sign-in" },
  },
  async run(input, { db, changes, actor }) {
    const user = await requireUserByEmail(db, readEmail(input));
    const reason = optionText(input, "reason");
    if (reason === null) throw new UsageError("--reason must say why");
    await setAccountDisabled(db, changes, { userId: user.id, disabled: true, reason }, actor);
    return {
      text: `Disabled ${user.email} (${reason})`,
      json: { id: user.id, email: user.email, disabled: true, reason },
    };
  },
};

export const userEnable: CommandSpec = {
  path: ["user", "enable"],
  summary: "Enable a disabled account again: its keys and sign-in work as before",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "The account's sign-in email" },
  },
  async run(input, { db, changes, actor }) {
    const user = await requireUserByEmail(db, readEmail(input));
    await setAccountDisabled(db, changes, { userId: user.id, disabled: false }, actor);
    return { text: `Enabled ${user.email}`, json: { id: user.id, email: user.email, disabled: false } };
  },
};

export const userCommands = [userCreate, userRateLimit, userDisable, userEnable];
