import { errors } from "../errors";
import type { ProviderBinding } from "../providers/registry";
import type { UpstreamHttpRequest, UpstreamResponse } from "../providers/types";
import { failureOutcome } from "../routing/channel-stats";
import { circuitKey } from "../routing/circuit-breaker";
import type { Candidate } from "../routing/select-candidates";
import { CallFailure, openUpstream, type CallContext } from "./upstream-call";

/** Upstream statuses that say "not now" rather than "not this request": the next candidate may answer. */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504, 529]);

/**
 * Failures without an upstream status that are worth another candidate: no connection, no answer in time, a stream
 * that died or ended before it began its answer.
 */
const RETRYABLE_ERROR_TYPES = new Set(["upstream_unreachable", "upstream_timeout", "upstream_stream_failed"]);

type Verdict = "retry" | "broken" | "final";

const PROVIDER_ERROR = { outcome: "provider_error" } as const;

/**
 * What a failed attempt means for the call. Connection errors, timeouts before the first byte, overload and
 * server errors are worth another candidate; a refused key means the channel is broken (and another candidate is
 * tried); an error about the request itself (400, 404, 413, 422) goes to the client at once, as would the same
 * request anywhere else.
 */
function verdictOf(failure: CallFailure): Verdict {
  if (failure.cancelled) return "final";
  if (failure.upstreamStatus === 401 || failure.upstreamStatus === 403) return "broken";
  if (failure.upstreamStatus !== null) return RETRYABLE_STATUSES.has(failure.upstreamStatus) ? "retry" : "final";
  return RETRYABLE_ERROR_TYPES.has(failure.errorType) ? "retry" : "final";
}

export interface OpenedUpstream {
  upstream: UpstreamResponse;
  binding: ProviderBinding;
}

/**
 * Opens the call on the first candidate that answers, and whose answer `confirm` accepts (a stream must begin its
 * answer): candidates in order, skipping channels whose circuit is open and any channel already tried for this call
 * with the same upstream model, within the configured cap on attempts and on total time. Each attempt is recorded on
 * the context (channel, status, latency, error type) and in the channel statistics; the context's model and endpoint
 * end as the ones that answered, so the answer names that model and the call is billed at that endpoint's prices. A
 * failure that another candidate cannot fix is thrown at once; when every candidate failed, the last failure is; when
 * every circuit is open, a 503 with `Retry-After`.
 */
export async function openWithFailover<Opened extends OpenedUpstream = OpenedUpstream>(
  context: CallContext,
  candidates: readonly Candidate[],
  buildRequest: (candidate: Candidate, binding: ProviderBinding) => UpstreamHttpRequest,
  signal: AbortSignal,
  /** Reads on into an answered call (a stream's first events) and may still refuse it, as a CallFailure. */
  confirm: (opened: OpenedUpstream) => Opened | Promise<Opened> = (opened) => opened as Opened,
): Promise<Opened> {
  const { deps } = context;
  const { breaker, routing } = deps;
  const startedAt = deps.clock();
  // A channel that failed is not asked again for the same upstream model (a `models` fallback is another request).
  const tried = new Set<string>();
  let lastFailure: CallFailure | null = null;

  for (const candidate of candidates) {
    const { endpoint } = candidate;
    if (context.attempts.length >= routing.maxAttempts) break;
    if (context.attempts.length > 0 && deps.clock() - startedAt >= routing.maxTotalMs) break;
    const key = circuitKey(endpoint.channel.id, endpoint.upstreamModel);
    if (tried.has(key) || !breaker.tryAcquire(key)) continue;
    tried.add(key);

    context.model = candidate.model;
    context.endpoint = endpoint;
    const binding = deps.providers.forChannel(endpoint.channel);
    const attemptStartedAt = deps.clock();
    const attempt = (status: number, errorType: string | null) =>
      context.attempts.push({
        channelId: endpoint.channel.id,
        channelName: endpoint.channel.name,
        provider: endpoint.channel.provider,
        upstreamModel: endpoint.upstreamModel,
        status,
        latencyMs: Math.max(0, Math.round(deps.clock() - attemptStartedAt)),
        errorType,
      });
    try {
      const request = buildRequest(candidate, binding);
      context.droppedParameters = request.droppedParameters;
      const opened = await confirm({ upstream: await openUpstream(context, binding, request, signal), binding });
      breaker.recordSuccess(key);
      attempt(opened.upstream.status, null);
      // How the call ends (and how fast) is recorded in the channel statistics when it settles.
      context.answeringSince = attemptStartedAt;
      return opened;
    } catch (error) {
      if (!(error instanceof CallFailure)) {
        breaker.release(key);
        throw error;
      }
      attempt(error.upstreamStatus ?? error.httpStatus, error.errorType);
      const verdict = verdictOf(error);
      if (verdict === "final") {
        // Not the channel's fault (or the client left): its circuit is none the worse.
        breaker.release(key);
        if (!error.cancelled) {
          const outcome = failureOutcome(error.upstreamStatus ?? error.httpStatus);
          deps.channelStats.record(endpoint.channel.id, endpoint.upstreamModel, { outcome });
        }
        throw error;
      }
      deps.channelStats.record(endpoint.channel.id, endpoint.upstreamModel, PROVIDER_ERROR);
      if (verdict === "broken")
        deps.reportBrokenChannel(endpoint.channel.id, `upstream answered ${error.upstreamStatus}`);
      breaker.recordFailure(key, error.retryAfterMs);
      lastFailure = error;
    }
  }

  if (lastFailure !== null) throw lastFailure;
  const waitMs = breaker.msUntilAvailable(
    candidates.map(({ endpoint }) => circuitKey(endpoint.channel.id, endpoint.upstreamModel)),
  );
  throw new CallFailure(
    errors.noUpstream(context.model.id, Math.max(1, Math.ceil(waitMs / 1000))),
    "no_provider_available",
  );
}
