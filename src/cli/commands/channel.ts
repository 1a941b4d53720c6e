import { createHttpTransport } from "~/server/gateway/providers/call-upstream";
import { createDemoUpstream } from "~/server/gateway/providers/demo/demo-upstream";
import { createProviderRegistry } from "~/server/gateway/providers/registry";
import {
  addChannel,
  ChannelInputError,
  findChannelByName,
  listChannels,
  MAX_CHANNEL_INTEGER,
  normalizeBaseUrl,
  PROVIDER_SLUG_PATTERN,
  requireChannel,
  setChannelEnabled,
  updateChannel,
  type ChannelKind,
  type ChannelModelMapping,
  type ChannelPatch,
  type ChannelSummary,
} from "~/server/services/channels";
import { readStoredChannelStats } from "~/server/services/channel-stats";
import { testChannel, type ChannelTestResult } from "~/server/services/test-channel";
import {
  CommandError,
  optionString,
  requiredString,
  UsageError,
  type CommandInput,
  type CommandSpec,
} from "../command";
import type { Invoker } from "../invoker";
import { formatDate, formatTable } from "../format";

/** Kinds an operator may add; `demo` is the built-in offline channel the server creates itself. */
const KINDS = ["openai", "anthropic", "gemini", "openai-compatible"] as const satisfies readonly ChannelKind[];

function readKind(text: string): ChannelKind {
  const kind = KINDS.find((candidate) => candidate === text);
  if (kind === undefined)
    throw new UsageError(`--kind must be one of ${KINDS.join(", ")}, not ${JSON.stringify(text)}`);
  return kind;
}

/** http(s) only, no credentials in the URL (they would show in `channel list`), without a trailing slash. */
export function readBaseUrl(text: string): string {
  try {
    return normalizeBaseUrl(text);
  } catch (error) {
    if (!(error instanceof ChannelInputError)) throw error;
    const hint = error.message === "must not contain credentials" ? "; use --api-key" : "";
    throw new UsageError(`--base-url ${error.message}${hint}`);
  }
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

/** The per-channel timeouts, as `channel edit` options, list labels and columns. */
const TIMEOUT_OPTIONS = [
  {
    option: "connect-timeout-ms",
    label: "connect",
    field: "connectTimeoutMs",
    description: "Longest TCP/TLS connect",
    setting: "UPSTREAM_CONNECT_TIMEOUT_MS",
  },
  {
    option: "first-byte-timeout-ms",
    label: "first byte",
    field: "firstByteTimeoutMs",
    description: "Longest wait for the response headers",
    setting: "UPSTREAM_FIRST_BYTE_TIMEOUT_MS",
  },
  {
    option: "idle-timeout-ms",
    label: "idle",
    field: "idleTimeoutMs",
    description: "Longest silence between two chunks of the body",
    setting: "UPSTREAM_IDLE_TIMEOUT_MS",
  },
  {
    option: "total-timeout-ms",
    label: "total",
    field: "totalTimeoutMs",
    description: "Longest a whole call may take",
    setting: "UPSTREAM_TOTAL_TIMEOUT_MS",
  },
] as const;

/** `--connect-timeout-ms 5000` → 5000; `default` → null (the configured default applies); absent → unchanged. */
function readTimeout(input: CommandInput, option: string): number | null | undefined {
  const text = optionString(input, option);
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === "default") return null;
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > MAX_CHANNEL_INTEGER)
    throw new UsageError(
      `--${option} must be a whole number of milliseconds ≥ 1, or default, not ${JSON.stringify(text)}`,
    );
  return value;
}

function readBoolean(option: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().toLowerCase();
  if (value === "true" || value === "yes") return true;
  if (value === "false" || value === "no") return false;
  throw new UsageError(`--${option} must be true or false, not ${JSON.stringify(text)}`);
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
    retainsData: channel.retainsData,
    aggregator: channel.aggregator,
    endpointCount: channel.endpointCount,
    hasKey: channel.hasSecret,
    brokenAt: channel.brokenAt,
    brokenReason: channel.brokenReason,
    connectTimeoutMs: channel.connectTimeoutMs,
    firstByteTimeoutMs: channel.firstByteTimeoutMs,
    idleTimeoutMs: channel.idleTimeoutMs,
    totalTimeoutMs: channel.totalTimeoutMs,
    lastTestedAt: channel.lastTestedAt,
    lastTestLatencyMs: channel.lastTestLatencyMs,
    lastTestStatus: channel.lastTestStatus,
    lastTestError: channel.lastTestError,
    createdAt: channel.createdAt,
  };
}

/** `ok` or `broken: <reason>`, as channel list shows it. */
function describeHealth(channel: Pick<ChannelSummary, "brokenAt" | "brokenReason">): string {
  return channel.brokenAt === null ? "ok" : `broken: ${channel.brokenReason ?? "key refused"}`;
}

/** `default`, or the timeouts the channel sets, e.g. `connect 5000, total 60000`. */
function describeTimeouts(channel: ChannelSummary): string {
  const set = TIMEOUT_OPTIONS.filter(({ field }) => channel[field] !== null).map(
    ({ label, field }) => `${label} ${channel[field]}`,
  );
  return set.length === 0 ? "default" : set.join(", ");
}

/** `never`, `200 in 412 ms at …`, or `401 in 80 ms at …: <error>`. */
function describeLastTest(channel: ChannelSummary): string {
  if (channel.lastTestedAt === null) return "never";
  const status = channel.lastTestStatus === null ? "no answer" : String(channel.lastTestStatus);
  const outcome = `${status} in ${channel.lastTestLatencyMs ?? "?"} ms at ${formatDate(channel.lastTestedAt)}`;
  return channel.lastTestError === null ? outcome : `${outcome}: ${channel.lastTestError}`;
}

/** For add and edit: replaces `--api-key-env VAR` with `--api-key <value>` in the CLI process. */
function localizeApiKey(input: CommandInput, invoker: Invoker | null): CommandInput {
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
      description: "The upstream API's base URL (http or https); anthropic, gemini: with or without /v1, /v1beta",
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
    aggregator: {
      type: "string",
      valueName: "true|false",
      description:
        "A router in front of other providers: serves every catalog model, after the native channels of its tier (default: true for openrouter)",
    },
  },
  localize: localizeApiKey,
  async run(input: CommandInput, { db, secretBox, changes, actor }) {
    const kind = readKind(requiredString(input, "kind"));
    const name = requiredString(input, "name").trim();
    if (name === "") throw new UsageError("--name must not be blank");
    const baseUrl = readBaseUrl(requiredString(input, "base-url"));
    const apiKey = optionString(input, "api-key")?.trim();
    if (apiKey === "") throw new UsageError("--api-key must not be blank");
    if (apiKey === undefined && kind !== "openai-compatible")
      throw new UsageError(`--api-key or --api-key-env is required for ${kind} channels`);
    const provider = optionString(input, "provider")?.trim().toLowerCase();
    if (provider !== undefined && !PROVIDER_SLUG_PATTERN.test(provider))
      throw new UsageError(`--provider must be a slug such as deepseek, not ${JSON.stringify(provider)}`);
    const modelsText = optionString(input, "models");
    const models = modelsText === undefined ? undefined : readModelMappings(modelsText);
    const priority = readInteger("priority", optionString(input, "priority"), -2_147_483_648);
    const weight = readInteger("weight", optionString(input, "weight"), 1);
    const aggregator = readBoolean("aggregator", optionString(input, "aggregator"));

    if ((await findChannelByName(db, name)) !== null) throw new CommandError(`a channel named ${name} already exists`);
    const { channel, endpointCount } = await addChannel(
      db,
      secretBox,
      changes,
      {
        kind,
        name,
        provider,
        baseUrl,
        apiKey: apiKey ?? null,
        priority,
        weight,
        aggregator,
        models,
      },
      actor,
    );
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
  summary: "List channels with their health, timeouts and last test (whether each has a key, never the key)",
  options: {},
  async run(_input, { db }) {
    const channels = await listChannels(db);
    const text =
      channels.length === 0
        ? "No channels"
        : formatTable(
            [
              "NAME",
              "KIND",
              "PROVIDER",
              "BASE URL",
              "ENABLED",
              "PRIORITY",
              "WEIGHT",
              "ENDPOINTS",
              "KEY",
              "STATUS",
              "TIMEOUTS (MS)",
              "LAST TEST",
            ],
            channels.map((channel) => [
              channel.name,
              channel.kind,
              channel.aggregator ? `${channel.provider} (aggregator)` : channel.provider,
              channel.baseUrl,
              channel.enabled ? "yes" : "no",
              String(channel.priority),
              String(channel.weight),
              String(channel.endpointCount),
              channel.hasSecret ? "yes" : "no",
              describeHealth(channel),
              describeTimeouts(channel),
              describeLastTest(channel),
            ]),
          );
    return { text, json: channels.map(describeChannel) };
  },
};

const CHANNEL_REFERENCE = { name: "NAME_OR_ID", description: "The channel's name or id" };

/** What an edit changed, in words, for its one-line answer. */
const EDITED_FIELDS: Record<keyof ChannelPatch, string> = {
  name: "name",
  baseUrl: "base URL",
  provider: "provider",
  apiKey: "key",
  priority: "priority",
  weight: "weight",
  enabled: "enabled",
  retainsData: "retains data",
  aggregator: "aggregator",
  connectTimeoutMs: "connect timeout",
  firstByteTimeoutMs: "first-byte timeout",
  idleTimeoutMs: "idle timeout",
  totalTimeoutMs: "total timeout",
};

/** `; its broken mark (upstream answered 401) is cleared and gateways route to it again`, or nothing. */
function describeClearedMark(before: { brokenAt: Date | null; brokenReason: string | null }, after: ChannelSummary) {
  return before.brokenAt !== null && after.brokenAt === null
    ? `; its broken mark (${before.brokenReason ?? "key refused"}) is cleared and gateways route to it again`
    : "";
}

export const channelEdit: CommandSpec = {
  path: ["channel", "edit"],
  summary: "Change a channel; a new key or base URL clears its broken mark. Gateways reload at once",
  positionals: [CHANNEL_REFERENCE],
  options: {
    name: { type: "string", valueName: "NAME", description: "A new unique name" },
    "base-url": { type: "string", valueName: "URL", description: "The upstream API's base URL (http or https)" },
    "api-key": {
      type: "string",
      valueName: "KEY",
      description: "A new upstream key (visible in your shell history; prefer --api-key-env)",
    },
    "api-key-env": { type: "string", valueName: "VAR", description: "Read the new key from this environment variable" },
    provider: {
      type: "string",
      valueName: "SLUG",
      description: "Provider slug (the models it serves stay as they are)",
    },
    priority: { type: "string", valueName: "N", description: "Higher tiers are tried first" },
    weight: { type: "string", valueName: "N", description: "Share of traffic within its tier, at least 1" },
    "retains-data": {
      type: "string",
      valueName: "true|false",
      description: 'Whether the provider may retain prompts (data_collection "deny" skips channels that may)',
    },
    aggregator: {
      type: "string",
      valueName: "true|false",
      description: "Whether the channel is a router in front of other providers (tried after native channels)",
    },
    ...Object.fromEntries(
      TIMEOUT_OPTIONS.map(({ option, description, setting }) => [
        option,
        { type: "string", valueName: "MS|default", description: `${description}; default goes back to ${setting}` },
      ]),
    ),
  },
  localize: localizeApiKey,
  async run(input, { db, secretBox, changes, actor }) {
    const patch: ChannelPatch = {};
    const name = optionString(input, "name")?.trim();
    if (name === "") throw new UsageError("--name must not be blank");
    if (name !== undefined) patch.name = name;
    const baseUrl = optionString(input, "base-url");
    if (baseUrl !== undefined) patch.baseUrl = readBaseUrl(baseUrl);
    const apiKey = optionString(input, "api-key")?.trim();
    if (apiKey === "") throw new UsageError("--api-key must not be blank");
    if (apiKey !== undefined) patch.apiKey = apiKey;
    const provider = optionString(input, "provider")?.trim().toLowerCase();
    if (provider !== undefined && !PROVIDER_SLUG_PATTERN.test(provider))
      throw new UsageError(`--provider must be a slug such as deepseek, not ${JSON.stringify(provider)}`);
    if (provider !== undefined) patch.provider = provider;
    const priority = readInteger("priority", optionString(input, "priority"), -2_147_483_648);
    if (priority !== undefined) patch.priority = priority;
    const weight = readInteger("weight", optionString(input, "weight"), 1);
    if (weight !== undefined) patch.weight = weight;
    const retainsData = readBoolean("retains-data", optionString(input, "retains-data"));
    if (retainsData !== undefined) patch.retainsData = retainsData;
    const aggregator = readBoolean("aggregator", optionString(input, "aggregator"));
    if (aggregator !== undefined) patch.aggregator = aggregator;
    for (const { option, field } of TIMEOUT_OPTIONS) {
      const value = readTimeout(input, option);
      if (value !== undefined) patch[field] = value;
    }
    if (Object.keys(patch).length === 0) {
      const names = Object.keys(channelEdit.options).filter((option) => option !== "api-key-env");
      throw new UsageError(`give at least one of ${names.map((option) => `--${option}`).join(", ")}`);
    }

    const before = await requireChannel(db, input.positionals[0]!);
    // A taken name or a refused change (ChannelNameTakenError, ChannelInputError) is a one-line failure, exit 1.
    const channel = await updateChannel(db, changes, secretBox, before.id, patch, actor);
    const changed = (Object.keys(patch) as (keyof ChannelPatch)[]).map((field) => EDITED_FIELDS[field]);
    return {
      text: `Updated channel ${channel.name}: ${changed.join(", ")}${describeClearedMark(before, channel)}`,
      json: describeChannel(channel),
    };
  },
};

export const channelEnable: CommandSpec = {
  path: ["channel", "enable"],
  summary: "Route to a channel again, clearing its broken mark (fix its key first with channel edit)",
  positionals: [CHANNEL_REFERENCE],
  options: {},
  async run(input, { db, changes, actor }) {
    const before = await requireChannel(db, input.positionals[0]!);
    const channel = await setChannelEnabled(db, changes, before.id, true, actor);
    return {
      text: `Enabled channel ${channel.name}${describeClearedMark(before, channel)}`,
      json: describeChannel(channel),
    };
  },
};

export const channelDisable: CommandSpec = {
  path: ["channel", "disable"],
  summary: "Stop routing to a channel; gateways drop its endpoints at once",
  positionals: [CHANNEL_REFERENCE],
  options: {},
  async run(input, { db, changes, actor }) {
    const before = await requireChannel(db, input.positionals[0]!);
    const channel = await setChannelEnabled(db, changes, before.id, false, actor);
    return { text: `Disabled channel ${channel.name}`, json: describeChannel(channel) };
  },
};

function describeTestResult(result: ChannelTestResult): string {
  const status = result.status === null ? "no HTTP status" : `HTTP ${result.status}`;
  return `channel ${result.channelName} (${result.upstreamModel}): ${status} in ${result.latencyMs} ms`;
}

export const channelTest: CommandSpec = {
  path: ["channel", "test"],
  summary: "Send a channel a one-token request and record its latency, status and error (exit 1 when it fails)",
  positionals: [CHANNEL_REFERENCE],
  options: {
    model: {
      type: "string",
      valueName: "UPSTREAM_MODEL",
      description: "One of the channel's upstream model names (default: its first enabled one)",
    },
  },
  async run(input, { db, secretBox, changes, env, actor }) {
    const channel = await requireChannel(db, input.positionals[0]!);
    const requested = optionString(input, "model")?.trim();
    if (requested === "") throw new UsageError("--model must not be blank");
    // Its own connection pool with the configured default limits (the channel's own are passed with the call),
    // closed at once: a test is rare, and this way the CLI process and a server running the command through its
    // control socket test the same way.
    const http = createHttpTransport({
      connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT_MS,
      firstByteTimeoutMs: env.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
      idleTimeoutMs: env.UPSTREAM_IDLE_TIMEOUT_MS,
      totalTimeoutMs: env.UPSTREAM_TOTAL_TIMEOUT_MS,
      connectionsPerOrigin: 1,
    });
    let result: ChannelTestResult;
    try {
      const providers = createProviderRegistry({ http: http.send, demo: createDemoUpstream(Date.now) });
      result = await testChannel({ db, changes, secretBox, providers, actor }, channel, { upstreamModel: requested });
    } finally {
      await http.close();
    }
    const marks = result.brokenCleared
      ? "; its broken mark is cleared and gateways route to it again"
      : result.broken
        ? "; it is marked broken until its key is fixed (channel edit --api-key-env) or it is enabled"
        : "";
    if (!result.ok) throw new CommandError(`${describeTestResult(result)}: ${result.error ?? "failed"}${marks}`);
    return {
      text: `OK: ${describeTestResult(result)}${marks}`,
      json: {
        channel: result.channelName,
        upstreamModel: result.upstreamModel,
        ok: result.ok,
        status: result.status,
        latencyMs: result.latencyMs,
        error: result.error,
        testedAt: result.testedAt,
        broken: result.broken,
      },
    };
  },
};

const percentOf = (share: number | null) => (share === null ? "-" : `${(share * 100).toFixed(1)}%`);
const millis = (value: number | undefined) => (value === undefined ? "-" : `${Math.round(value)}`);

export const channelStats: CommandSpec = {
  path: ["channel", "stats"],
  summary: "Live statistics per channel and upstream model: uptime, error rate, latency and throughput",
  options: {
    channel: { type: "string", valueName: "NAME_OR_ID", description: "Only this channel (default: every channel)" },
  },
  async run(input, { db }) {
    const reference = optionString(input, "channel");
    const only = reference === undefined ? undefined : await requireChannel(db, reference.trim());
    const names = new Map((await listChannels(db)).map((channel) => [channel.id, channel.name]));
    // What every gateway process stored (each flushes every CHANNEL_STATS_FLUSH_MS).
    const rows = (await readStoredChannelStats(db, Date.now(), only?.id))
      .map((row) => ({ ...row, channelName: names.get(row.channelId) ?? row.channelId }))
      .sort((a, b) => a.channelName.localeCompare(b.channelName) || a.upstreamModel.localeCompare(b.upstreamModel));
    const text =
      rows.length === 0
        ? "No calls in the last day"
        : formatTable(
            [
              "CHANNEL",
              "UPSTREAM MODEL",
              "CALLS 5M/30M/1D",
              "UPTIME 5M/30M/1D",
              "ERRORS 5M",
              "TTFT P50/P90 MS",
              "DURATION P50/P90 MS",
              "TOKENS/S P50",
            ],
            rows.map(({ channelName, upstreamModel, stats }) => [
              channelName,
              upstreamModel,
              `${stats.last5m.requests}/${stats.last30m.requests}/${stats.last1d.requests}`,
              `${percentOf(stats.last5m.uptime)}/${percentOf(stats.last30m.uptime)}/${percentOf(stats.last1d.uptime)}`,
              percentOf(stats.last5m.errorRate),
              `${millis(stats.firstTokenMs?.p50)}/${millis(stats.firstTokenMs?.p90)}`,
              `${millis(stats.latencyMs?.p50)}/${millis(stats.latencyMs?.p90)}`,
              stats.tokensPerSecond === null ? "-" : stats.tokensPerSecond.p50.toFixed(1),
            ]),
          );
    return { text, json: rows };
  },
};

export const channelCommands = [
  channelAdd,
  channelEdit,
  channelEnable,
  channelDisable,
  channelTest,
  channelList,
  channelStats,
];
