import { desc, eq, or, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { apiKeys, channels, generations, users, type GenerationAttempt } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";

/** The most calls one id can find: a client that reuses its request ids still gets a readable page. */
export const MAX_FOUND_REQUESTS = 50;

export interface FoundRequest {
  /**
   * Which id matched. A client chooses its own request ids, so one may equal another call's generation id: the call
   * that id names comes first.
   */
  matchedBy: "generation id" | "request id";
  generationId: string;
  requestId: string | null;
  createdAt: Date;
  userId: string;
  email: string | null;
  keyPrefix: string | null;
  modelId: string;
  provider: string;
  upstreamModel: string;
  channelName: string | null;
  streamed: boolean;
  cancelled: boolean;
  httpStatus: number;
  errorType: string | null;
  finishReason: string | null;
  billingStatus: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: string;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  /** Only a call that failed over stores its attempts; one attempt is the generation's own channel. */
  attempts: GenerationAttempt[] | null;
}

/**
 * The calls a customer or a log line quotes, across every account: by the request id (`x-request-id`, ours or the
 * client's) or the generation id (`gen-…`), newest first. Both are indexed, so this is one index probe each.
 */
export async function findRequests(db: Database, id: string): Promise<FoundRequest[]> {
  const rows = await db
    .select({
      generation: generations,
      email: users.email,
      keyPrefix: apiKeys.prefix,
      channelName: channels.name,
    })
    .from(generations)
    .leftJoin(users, eq(users.id, generations.userId))
    .leftJoin(apiKeys, eq(apiKeys.id, generations.apiKeyId))
    .leftJoin(channels, eq(channels.id, generations.channelId))
    .where(or(eq(generations.requestId, id), eq(generations.id, id)))
    .orderBy(desc(sql`${generations.id} = ${id}`), desc(generations.createdAt), desc(generations.id))
    .limit(MAX_FOUND_REQUESTS);
  return rows.map(({ generation, email, keyPrefix, channelName }) => ({
    matchedBy: generation.id === id ? "generation id" : "request id",
    generationId: generation.id,
    requestId: generation.requestId,
    createdAt: generation.createdAt,
    userId: generation.userId,
    email,
    keyPrefix,
    modelId: generation.modelId,
    provider: generation.provider,
    upstreamModel: generation.upstreamModel,
    channelName,
    streamed: generation.streamed,
    cancelled: generation.cancelled,
    httpStatus: generation.httpStatus,
    errorType: generation.errorType,
    finishReason: generation.finishReason,
    billingStatus: generation.billingStatus,
    promptTokens: generation.promptTokens,
    completionTokens: generation.completionTokens,
    cachedTokens: generation.cachedTokens,
    reasoningTokens: generation.reasoningTokens,
    costUsd: formatNanoAsUsd(generation.costNano),
    latencyMs: generation.latencyMs,
    timeToFirstTokenMs: generation.timeToFirstTokenMs,
    attempts: generation.attempts,
  }));
}
