import {
  addChannel,
  findChannelByName,
  listChannels,
  type ChannelKind,
  type ChannelModelMapping,
  type ChannelSummary,
} from "~/server/services/channels";
import {
  CommandError,
  optionString,
  requiredString,
  UsageError,
  type CommandInput,
  type CommandSpec,
} from "../command";
import { formatTable } from "../format";

/** Kinds an operator may add; `demo` is the built-in offline channel the server creates itself. */
const KINDS = ["openai", "anthropic", "gemini", "openai-compatible"] as const satisfies readonly ChannelKind[];
const PROVIDER_SLUG = /^[a-z0-9][a-z0-9._-]*$/;

function readKind(text: string): ChannelKind {
  const kind = KINDS.find((candidate) => candidate === text);
  if (kind === undefined)
    throw new UsageError(`--kind must be one of ${KINDS.join(", ")}, not ${JSON.stringify(text)}`);
  return kind;
}

/** http(s) only, no credentials in the URL (they would show in `channel list`), without a trailing slash. */
export function readBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`--base-url is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError("--base-url must be an http or https URL");
  if (url.username !== "" || url.password !== "")
    throw new UsageError("--base-url must not contain credentials; use --api-key");
  return url.toString().replace(/\/+$/, "");
}

function readInteger(name: string, text: string | undefined, minimum: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum || value > 2_147_483_647) {
    throw new UsageError(
      `--${name} must be an integer${minimum > 0 ? ` of at least ${minimum}` : ""}, not ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** `openai/gpt-4.1,openai/gpt-4.1-mini=gpt-4.1-mini-2025-04-14`: public ids, each optionally `=upstream name`. */
export function readModelMappings(text: string): ChannelModelMapping[] {
  const mappings: ChannelModelMapping[] = [];
  for (const entry of text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    const separator = entry.indexOf("=");
    const modelId = (separator === -1 ? entry : entry.slice(0, separator)).trim();
    const upstreamModel = separator === -1 ? undefined : entry.slice(separator + 1).trim();
    if (modelId === "" || upstreamModel === "")
      throw new UsageError(`--models: malformed entry ${JSON.stringify(entry)}; use id or id=upstreamName`);
    if (mappings.some((mapping) => mapping.modelId === modelId))
      throw new UsageError(`--models: ${modelId} is listed twice`);
    mappings.push(upstreamModel === undefined ? { modelId } : { modelId, upstreamModel });
  }
  if (mappings.length === 0) throw new UsageError("--models must name at least one model");
  return mappings;
}

function describeChannel(channel: ChannelSummary) {
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    provider: channel.provider,
    baseUrl: channel.baseUrl,
    enabled: channel.enabled,
    priority: channel.priority,
    weight: channel.weight,
    endpointCount: channel.endpointCount,
    hasKey: channel.hasSecret,
    createdAt: channel.createdAt,
  };
}

export const channelAdd: CommandSpec = {
  path: ["channel", "add"],
  summary: "Add an upstream channel; its key is stored encrypted and never printed",
  options: {
    kind: { type: "string", valueName: "KIND", required: true, description: `One of ${KINDS.join(", ")}` },
    name: { type: "string", valueName: "NAME", required: true, description: "Unique channel name" },
    "base-url": {
      type: "string",
      valueName: "URL",
      required: true,
      description: "The upstream API's base URL (http or https)",
    },
    "api-key": {
      type: "string",
      valueName: "KEY",
      description: "The upstream key (visible in your shell history; prefer --api-key-env)",
    },
    "api-key-env": {
      type: "string",
      valueName: "VAR",
      description: "Read the upstream key from this environment variable",
    },
    provider: {
      type: "string",
      valueName: "SLUG",
      description: "Provider slug; defaults from the kind (openai-compatible: the name)",
    },
    models: {
      type: "string",
      valueName: "LIST",
      description: "Comma-separated model ids, each optionally id=upstreamName; default: the provider's catalog models",
    },
    priority: { type: "string", valueName: "N", description: "Higher tiers are tried first (default 0)" },
    weight: { type: "string", valueName: "N", description: "Share of traffic within its tier, at least 1 (default 1)" },
  },
  localize(input, invoker) {
    const variable = optionString(input, "api-key-env");
    if (variable === undefined) return input;
    if (optionString(input, "api-key") !== undefined)
      throw new UsageError("use either --api-key or --api-key-env, not both");
    if (invoker === null) throw new UsageError("--api-key-env can only be resolved by the CLI process; pass --api-key");
    const value = invoker.variables[variable];
    if (value === undefined || value.trim() === "")
      throw new UsageError(`--api-key-env: environment variable ${variable} is not set`);
    const { "api-key-env": _variable, ...options } = input.options;
    return { ...input, options: { ...options, "api-key": value.trim() } };
  },
  async run(input: CommandInput, { db, secretBox, changes }) {
    const kind = readKind(requiredString(input, "kind"));
    const name = requiredString(input, "name").trim();
    if (name === "") throw new UsageError("--name must not be blank");
    const baseUrl = readBaseUrl(requiredString(input, "base-url"));
    const apiKey = optionString(input, "api-key")?.trim();
    if (apiKey === "") throw new UsageError("--api-key must not be blank");
    if (apiKey === undefined && kind !== "openai-compatible")
      throw new UsageError(`--api-key or --api-key-env is required for ${kind} channels`);
    const provider = optionString(input, "provider")?.trim().toLowerCase();
    if (provider !== undefined && !PROVIDER_SLUG.test(provider))
      throw new UsageError(`--provider must be a slug such as deepseek, not ${JSON.stringify(provider)}`);
    const modelsText = optionString(input, "models");
    const models = modelsText === undefined ? undefined : readModelMappings(modelsText);
    const priority = readInteger("priority", optionString(input, "priority"), -2_147_483_648);
    const weight = readInteger("weight", optionString(input, "weight"), 1);

    if ((await findChannelByName(db, name)) !== null) throw new CommandError(`a channel named ${name} already exists`);
    const { channel, endpointCount } = await addChannel(db, secretBox, changes, {
      kind,
      name,
      provider,
      baseUrl,
      apiKey: apiKey ?? null,
      priority,
      weight,
      models,
    });
    const served =
      endpointCount === 0
        ? `serves no models yet (import a catalog with models by ${channel.provider}, or pass --models)`
        : `serves ${endpointCount} model${endpointCount === 1 ? "" : "s"}`;
    return {
      text: `Added channel ${channel.name} (${channel.kind}, provider ${channel.provider}, ${channel.hasSecret ? "key stored encrypted" : "no key"}); it ${served}`,
      json: describeChannel(channel),
    };
  },
};

export const channelList: CommandSpec = {
  path: ["channel", "list"],
  summary: "List channels (whether each has a key, never the key)",
  options: {},
  async run(_input, { db }) {
    const channels = await listChannels(db);
    const text =
      channels.length === 0
        ? "No channels"
        : formatTable(
            ["NAME", "KIND", "PROVIDER", "BASE URL", "ENABLED", "PRIORITY", "WEIGHT", "ENDPOINTS", "KEY", "STATUS"],
            channels.map((channel) => [
              channel.name,
              channel.kind,
              channel.provider,
              channel.baseUrl,
              channel.enabled ? "yes" : "no",
              String(channel.priority),
              String(channel.weight),
              String(channel.endpointCount),
              channel.hasSecret ? "yes" : "no",
              channel.brokenAt === null ? "ok" : `broken: ${channel.brokenReason ?? "key refused"}`,
            ]),
          );
    return { text, json: channels.map(describeChannel) };
  },
};

export const channelCommands = [channelAdd, channelList];
