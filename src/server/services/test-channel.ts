import { and, asc, desc, eq, isNotNull, sql } from "drizzle-orm";
import type { ChangeBus } from "~/server/changes";
import type { SecretBox } from "~/server/crypto/secret-box";
import type { Database } from "~/server/db";
import { channels, modelEndpoints } from "~/server/db/schema";
import { chatCompletionRequestSchema } from "~/server/gateway/protocol/chat-completion-request";
import type { ProviderRegistry } from "~/server/gateway/providers/registry";
import { UpstreamTimeoutError } from "~/server/gateway/providers/types";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";
import { resolveChannel } from "~/server/gateway/routing/load-catalog";
import { ChannelInputError, markChannelBroken, type Channel } from "./channels";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";

/** The answer a test asks for: one token is enough to show that the key, the URL and the model work. */
export const TEST_MAX_TOKENS = 1;
export const TEST_PROMPT = "ping";
/** How long a test waits for the whole answer when the channel sets no total timeout of its own. */
export const DEFAULT_TEST_TIMEOUT_MS = 30_000;
/** Recorded errors are one short line. */
const MAX_ERROR_LENGTH = 300;

export interface ChannelTestResult {
  channelId: string;
  channelName: string;
  upstreamModel: string;
  testedAt: Date;
  /** From sending the request to the end of the answer (or to the failure). */
  latencyMs: number;
  /** The upstream's HTTP status; null when it never answered (refused connection, unreachable, timed out). */
  status: number | null;
  /** The upstream answered 2xx with a chat completion the channel's adapter could read. */
  ok: boolean;
  /** What went wrong, in one line: the adapter's reading of the upstream's error, or the connection error. */
  error: string | null;
  /** This test cleared the channel's broken mark (it succeeded on a channel marked broken). */
  brokenCleared: boolean;
  /** The channel is marked broken after the test (a 401/403 marks it, as in live traffic). */
  broken: boolean;
}

export interface TestChannelDeps {
  db: Database;
  changes: ChangeBus;
  secretBox: SecretBox;
  providers: ProviderRegistry;
  /** Who asked for the test: it is recorded, with its result, in the audit log. */
  actor: AuditActor;
  /** Milliseconds on a monotonic clock, for the latency. */
  now?: () => number;
}

export interface TestChannelOptions {
  /** One of the channel's upstream model names; default: its first enabled endpoint's (by public model id). */
  upstreamModel?: string | undefined;
  /** Default: the channel's total timeout, or DEFAULT_TEST_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
}

/**
 * The model a test asks for. Only names the channel serves: the result is recorded on the channel and shown as its
 * health, so it must say something about what the channel routes (a typo would record a misleading 404).
 */
export async function pickTestModel(db: Database, channel: Channel, requested?: string): Promise<string> {
  const endpoints = await db
    .select({ upstreamModel: modelEndpoints.upstreamModel, enabled: modelEndpoints.enabled })
    .from(modelEndpoints)
    .where(eq(modelEndpoints.channelId, channel.id))
    .orderBy(desc(modelEndpoints.enabled), asc(modelEndpoints.modelId));
  if (endpoints.length === 0) throw new ChannelInputError(`channel ${channel.name} serves no models to test`);
  if (requested === undefined) return endpoints[0]!.upstreamModel;
  const names = [...new Set(endpoints.map((endpoint) => endpoint.upstreamModel))];
  if (!names.includes(requested)) {
    const shown = names.slice(0, 10).join(", ") + (names.length > 10 ? ", …" : "");
    throw new ChannelInputError(`channel ${channel.name} serves no upstream model ${requested} (it serves ${shown})`);
  }
  return requested;
}

/** The channel as routing sees it, key decrypted; held only for the duration of the test. */
function resolveForTest(channel: Channel, secretBox: SecretBox): ResolvedChannel {
  let apiKey: string | null = null;
  if (channel.encryptedSecret !== null) {
    try {
      apiKey = secretBox.decrypt(channel.encryptedSecret);
    } catch {
      // A problem of this process (another ENCRYPTION_KEY than the server's), not of the channel: nothing recorded.
      throw new Error(`the key of channel ${channel.name} cannot be decrypted with this ENCRYPTION_KEY`);
    }
  }
  return resolveChannel(channel, apiKey);
}

/** One line, without the key even if an upstream or a library quoted it. */
function oneLine(text: string, apiKey: string | null): string {
  let line = text.replace(/\s+/g, " ").trim();
  if (apiKey !== null && apiKey !== "") line = line.replaceAll(apiKey, "[key]");
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 1)}…` : line;
}

/** undici and node:net errors: `connect ECONNREFUSED 127.0.0.1:4000`, or an AggregateError with only a code. */
function describeConnectionError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = error instanceof AggregateError ? (error.errors[0] as unknown) : error.cause;
  let message = error.message;
  if (message === "" && inner instanceof Error) message = inner.message;
  if (typeof code === "string" && !message.includes(code)) message = message === "" ? code : `${code}: ${message}`;
  return `no answer: ${message || error.name}`;
}

/**
 * Sends the channel one tiny non-streamed request (one user message, TEST_MAX_TOKENS) through its provider adapter
 * and transport, exactly as a routed call would be built, and records when, how long, the upstream status and the
 * error on the channel row. Never throws for an upstream failure: that is the result.
 *
 * The broken mark follows the evidence. A success clears it: the key demonstrably works now, and keeping the channel
 * out of routing would only wait for an operator to repeat what the test just showed. A 401/403 sets it, exactly as
 * the same refusal in live traffic does (routing would fail on this key anyway). Either change reloads every
 * gateway's catalog; any other failure leaves the mark as it was (a timeout says nothing about the key).
 */
export async function testChannel(
  deps: TestChannelDeps,
  channel: Channel,
  options: TestChannelOptions = {},
): Promise<ChannelTestResult> {
  const { db, changes, providers } = deps;
  const now = deps.now ?? (() => performance.now());
  const upstreamModel = await pickTestModel(db, channel, options.upstreamModel);
  const resolved = resolveForTest(channel, deps.secretBox);
  const binding = providers.forChannel(resolved);
  const timeoutMs = options.timeoutMs ?? channel.totalTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;

  const testedAt = new Date();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = now();
  let status: number | null = null;
  let error: string | null = null;
  try {
    const request = chatCompletionRequestSchema.parse({
      model: upstreamModel,
      messages: [{ role: "user", content: TEST_PROMPT }],
      max_tokens: TEST_MAX_TOKENS,
      stream: false,
    });
    const upstream = await binding.transport(
      binding.adapter.buildRequest({
        request,
        upstreamModel,
        channel: resolved,
        stream: false,
        maxOutputTokens: TEST_MAX_TOKENS,
      }),
      controller.signal,
      // The channel's own limits, as a routed call has them; the test's timeout above caps them all.
      { timeouts: resolved.timeouts },
    );
    status = upstream.status;
    const text = await upstream.text();
    if (status >= 400) {
      // The adapter's reading, as a client would be told: it never quotes the upstream's text for a refused key.
      error = binding.adapter.parseError(status, text).message;
    } else if (status < 200 || status >= 300) {
      error = `unexpected HTTP ${status}`;
    } else {
      try {
        binding.adapter.parseResponse(JSON.parse(text));
      } catch {
        error = "answered with something that is not a chat completion (is the base URL right?)";
      }
    }
  } catch (caught) {
    if (controller.signal.aborted) error = `no answer within ${timeoutMs} ms`;
    else if (caught instanceof UpstreamTimeoutError) error = "no answer: the upstream timed out";
    else if (status !== null) error = "the answer broke off before it was complete";
    else error = describeConnectionError(caught);
  } finally {
    clearTimeout(timer);
  }
  const latencyMs = Math.max(0, Math.round(now() - started));
  const ok = error === null;
  if (error !== null) error = oneLine(error, resolved.apiKey);

  if (!ok && (status === 401 || status === 403)) {
    await markChannelBroken(db, changes, channel.id, `upstream answered ${status} to a channel test`);
  }
  const { brokenCleared, recorded } = await db.transaction(async (tx) => {
    const cleared = ok
      ? await tx
          .update(channels)
          .set({ brokenAt: null, brokenReason: null, updatedAt: sql`now()` })
          .where(and(eq(channels.id, channel.id), isNotNull(channels.brokenAt)))
          .returning({ id: channels.id })
      : [];
    const [row] = await tx
      .update(channels)
      .set({ lastTestedAt: testedAt, lastTestLatencyMs: latencyMs, lastTestStatus: status, lastTestError: error })
      .where(eq(channels.id, channel.id))
      .returning({ brokenAt: channels.brokenAt });
    await recordAudit(tx, deps.actor, {
      action: "channel.test",
      target: { type: "channel", id: channel.id, label: channel.name },
      after: { ok, upstreamModel, status, latencyMs, error, broken: row?.brokenAt != null },
    });
    return { brokenCleared: cleared.length > 0, recorded: row };
  });
  if (brokenCleared) await changes.publish({ topic: "catalog-changed" });
  return {
    channelId: channel.id,
    channelName: channel.name,
    upstreamModel,
    testedAt,
    latencyMs,
    status,
    ok,
    error,
    brokenCleared,
    broken: (recorded?.brokenAt ?? null) !== null,
  };
}
