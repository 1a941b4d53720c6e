import { errors } from "../errors";
import type { ProviderBinding } from "../providers/registry";
import type { UpstreamHttpRequest, UpstreamResponse } from "../providers/types";
import { failureOutcome } from "../routing/channel-stats";
import { circuitKey, type CircuitBreaker } from "../routing/circuit-breaker";
import type { CatalogModel } from "../routing/catalog";
import type { Candidate } from "../routing/select-candidates";
import type { CallContext } from "./call-context";
import { CallFailure } from "./call-failure";
import { openUpstream } from "./open-upstream";

/** Upstream statuses that say "not now" rather than "not this request": the next candidate may answer. */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504, 529]);

/**
 * Failures without an upstream status that are worth another candidate: no connection, no answer in time, a stream
 * that died or ended before it began its answer, a whole answer that broke off or could not be read (nothing of it has
 * reached the client, and nothing of it is billed).
 */
const RETRYABLE_ERROR_TYPES = new Set([
  "upstream_unreachable",
  "upstream_timeout",
  "upstream_stream_failed",
  "upstream_body_incomplete",
  "upstream_invalid_response",
]);

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
 * How many models of a `models` list, among the candidates after `index`, have not had an attempt yet (other than the
 * candidate's own) and have a candidate whose circuit lets a call through now: the attempts that must be left for
 * them. A model whose every candidate is cooling down is owed nothing here; it may still get a probe at the end.
 */
function modelsStillOwedAnAttempt(
  candidates: readonly Candidate[],
  index: number,
  attempted: ReadonlySet<CatalogModel>,
  breaker: CircuitBreaker,
): number {
  const owed = new Set<CatalogModel>();
  for (let next = index + 1; next < candidates.length; next++) {
    const { model, endpoint } = candidates[next]!;
    if (model === candidates[index]!.model || attempted.has(model) || owed.has(model)) continue;
    if (breaker.msUntilAvailable([circuitKey(endpoint.channel.id, endpoint.upstreamModel)]) === 0) owed.add(model);
  }
  return owed.size;
}

/**
 * Opens the call on the first candidate that answers, and whose answer `confirm` accepts (a stream must begin its
 * answer, a whole answer must arrive whole): candidates in order, skipping channels whose circuit is open and any
 * channel already tried for this call with the same upstream model, within the configured cap on attempts and on
 * total time. Every model of a `models` list gets at least one attempt within the cap: once a model has had one, its
 * further candidates wait while the attempts left are only enough for the listed models not yet tried (they are
 * tried after those, if attempts remain). When every candidate within reach failed, the attempts left go to the
 * candidates whose circuit was open, the one cooling down the shortest first, as that circuit's probe (never before
 * the upstream's own `Retry-After`). Each attempt is recorded on the context (channel, status, latency, error type) and
 * in the channel statistics; the context's model and endpoint end as the ones that answered, so the answer names that
 * model and the call is billed at that endpoint's prices. A failure that another candidate cannot fix is thrown at
 * once; when every candidate failed, the last failure is; when every circuit is open and none could be probed, a 503
 * with `Retry-After`.
 */
export async function openWithFailover<Opened extends OpenedUpstream = OpenedUpstream>(
  context: CallContext,
  candidates: readonly Candidate[],
  buildRequest: (candidate: Candidate, binding: ProviderBinding) => UpstreamHttpRequest,
  signal: AbortSignal,
  /** Reads on into an answered call (a stream's first events, a whole body) and may still refuse it, as a CallFailure. */
  confirm: (opened: OpenedUpstream) => Opened | Promise<Opened> = (opened) => opened as Opened,
): Promise<Opened> {
  const { deps } = context;
  const { breaker, routing } = deps;
  const startedAt = deps.clock();
  // A channel that failed is not asked again for the same upstream model (a `models` fallback is another request).
  const tried = new Set<string>();
  const attemptedModels = new Set<CatalogModel>();
  // Candidates put off to leave attempts for later models, and those whose circuit was open: the last resorts.
  const deferred: Candidate[] = [];
  const cooling: Candidate[] = [];
  // Assigned by attempt(): the assertion keeps the compiler from narrowing it to null here.
  let lastFailure = null as CallFailure | null;

  const withinCaps = () =>
    context.attempts.length < routing.maxAttempts &&
    (context.attempts.length === 0 || deps.clock() - startedAt < routing.maxTotalMs);

  /** One attempt on a candidate whose circuit let it through: the opened call, or null after a retryable failure. */
  async function attempt(candidate: Candidate, key: string): Promise<Opened | null> {
    const { endpoint } = candidate;
    tried.add(key);
    attemptedModels.add(candidate.model);
    context.model = candidate.model;
    context.endpoint = endpoint;
    const binding = deps.providers.forChannel(endpoint.channel);
    const attemptStartedAt = deps.clock();
    const recordAttempt = (status: number, errorType: string | null) =>
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
      recordAttempt(opened.upstream.status, null);
      // How the call ends (and how fast) is recorded in the channel statistics when it settles.
      context.answeringSince = attemptStartedAt;
      return opened;
    } catch (error) {
      if (!(error instanceof CallFailure)) {
        breaker.release(key);
        throw error;
      }
      recordAttempt(error.upstreamStatus ?? error.httpStatus, error.errorType);
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
      return null;
    }
  }

  for (let index = 0; index < candidates.length && withinCaps(); index++) {
    const candidate = candidates[index]!;
    const key = circuitKey(candidate.endpoint.channel.id, candidate.endpoint.upstreamModel);
    if (tried.has(key)) continue;
    if (
      attemptedModels.has(candidate.model) &&
      routing.maxAttempts - context.attempts.length <=
        modelsStillOwedAnAttempt(candidates, index, attemptedModels, breaker)
    ) {
      deferred.push(candidate);
      continue;
    }
    if (!breaker.tryAcquire(key)) {
      cooling.push(candidate);
      continue;
    }
    const opened = await attempt(candidate, key);
    if (opened !== null) return opened;
  }

  for (const candidate of deferred) {
    if (!withinCaps()) break;
    const key = circuitKey(candidate.endpoint.channel.id, candidate.endpoint.upstreamModel);
    if (tried.has(key)) continue;
    if (!breaker.tryAcquire(key)) {
      cooling.push(candidate);
      continue;
    }
    const opened = await attempt(candidate, key);
    if (opened !== null) return opened;
  }

  const cooldownLeft = (candidate: Candidate) =>
    breaker.msUntilAvailable([circuitKey(candidate.endpoint.channel.id, candidate.endpoint.upstreamModel)]);
  for (const candidate of cooling.sort((a, b) => cooldownLeft(a) - cooldownLeft(b))) {
    if (!withinCaps()) break;
    const key = circuitKey(candidate.endpoint.channel.id, candidate.endpoint.upstreamModel);
    if (tried.has(key) || !breaker.tryAcquireEarly(key)) continue;
    const opened = await attempt(candidate, key);
    if (opened !== null) return opened;
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
