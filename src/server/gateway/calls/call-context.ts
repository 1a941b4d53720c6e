import type { EmittedText, Metered } from "../billing/meter-call";
import type { TokenUsage } from "../billing/compute-cost";
import type { PromptMeasure } from "../billing/estimate-tokens";
import type { GatewayDeps } from "../deps";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import type { CatalogModel, ModelEndpoint } from "../routing/catalog";
import type { GenerationAttempt } from "~/server/db/schema";

/** nginx's status for a request the client abandoned; recorded on the generation, never sent (nobody listens). */
export const CLIENT_CLOSED_REQUEST = 499;

/** What one call needs from start to settlement. */
export interface CallContext {
  deps: GatewayDeps;
  principal: Principal;
  model: CatalogModel;
  endpoint: ModelEndpoint;
  generationId: string;
  /** The /v1 request the call answers: its id goes on the generation, its end is logged at the settlement. */
  request: RequestRecord;
  startedAt: number;
  streamed: boolean;
  /** Set once the upstream request is built: what the provider does not support and was left out. */
  droppedParameters?: readonly string[];
  /** What the call's balance hold reserved (its worst case); 0 until it is admitted. */
  holdNano?: bigint;
  /** The gateway's own measure of the prompt: for the hold, and for the bill when the upstream reports no usage. */
  prompt: PromptMeasure;
  /** Upstream calls made for this request (a fanned-out `n` makes one per choice), each billed for the prompt. */
  upstreamCalls: number;
  /** Set by the one settlement every call gets. */
  settlement?: Metered;
  /**
   * Set by the settlement: resolves once the call's balance hold has become its cost. The response that ends the
   * call waits for it, so a client that waits for each answer is admitted against what it really spent.
   */
  holdSettled?: Promise<void>;
  /** Every upstream attempt so far, in order (failover tries the next candidate after a retryable failure). */
  attempts: GenerationAttempt[];
  /** When the request that the upstream answered (headers, no error) was sent; unset while none has. */
  answeringSince?: number;
}

export interface CallOutcome {
  httpStatus: number;
  /** What the upstream reported; null when it reported nothing. */
  usage: TokenUsage | null;
  /** The upstream finished its answer; false for anything cut short. */
  completed: boolean;
  /** `usage` is the gateway's own count of a finished call whose upstream reported none (billed as estimated). */
  estimated?: boolean;
  /** What the client received, counted when the upstream's usage is missing. */
  emitted?: EmittedText;
  finishReason?: string | null;
  errorType?: string | null;
  upstreamId?: string | null;
  cancelled?: boolean;
  firstByteAt?: number | null;
}

/** Names a client may put in a header's value: request fields are client-chosen JSON keys, so only plain ones. */
const HEADER_SAFE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_LISTED_PARAMETERS = 20;

function droppedParametersHeader(dropped: readonly string[] | undefined): Record<string, string> {
  const listed = (dropped ?? []).filter((name) => HEADER_SAFE_NAME.test(name)).slice(0, MAX_LISTED_PARAMETERS);
  return listed.length > 0 ? { "x-tollgate-dropped-parameters": listed.join(", ") } : {};
}

export function responseHeaders(context: CallContext): Record<string, string> {
  return {
    "x-generation-id": context.generationId,
    "x-tollgate-provider": context.endpoint.channel.provider,
    "x-tollgate-channel": context.endpoint.channel.name,
    "x-tollgate-attempts": String(Math.max(1, context.attempts.length)),
    "x-tollgate-model": context.model.id,
    ...droppedParametersHeader(context.droppedParameters),
  };
}
