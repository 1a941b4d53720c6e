import type { Metadata } from "next";
import Link from "next/link";
import { formatDateTime } from "~/components/ui/format";
import { api } from "~/trpc/server";
import { textParam, type SearchParams } from "../_components/search-params";

export const metadata: Metadata = { title: "Requests · Admin" };

/**
 * One call found by the id a customer or a log line quotes: the request id (`x-request-id`) or the generation id. A
 * plain GET form, so a link to a found request can be shared.
 */
export default async function AdminRequestsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const id = textParam(params, "id")?.slice(0, 200);
  const found = id === undefined ? [] : await api.admin.requests.find({ id });

  return (
    <>
      <div className="page-heading">
        <h1>Requests</h1>
        <p className="muted">
          Find a call by the id a customer quotes or a log line shows: its request id (<code>x-request-id</code>) or its
          generation id (<code>gen-…</code>).
        </p>
      </div>
      <section className="card">
        <form method="get" className="inline-form" role="search">
          <label className="field inline-form__grow" htmlFor="request-search">
            <span className="field__label">Request or generation id</span>
            <input
              id="request-search"
              name="id"
              className="input input--mono"
              defaultValue={id}
              placeholder="req-… or gen-…"
              maxLength={200}
            />
          </label>
          <button type="submit" className="button button--primary">
            Find
          </button>
        </form>
      </section>
      {id !== undefined && (
        <section className="card" aria-labelledby="requests-heading">
          <h2 id="requests-heading" className="card__title">
            {found.length === 0 ? "No call found" : found.length === 1 ? "1 call" : `${found.length} calls`}
          </h2>
          {found.length === 0 ? (
            <p className="muted">
              No call has this request or generation id. Ids are matched exactly; a call shows here once its usage is
              written, a moment after it ends.
            </p>
          ) : (
            found.map((call) => (
              <article key={call.generationId} className="found-request" data-testid="found-request">
                <p className="muted small">Matched by its {call.matchedBy}.</p>
                <dl className="detail-list">
                  <dt>Generation</dt>
                  <dd>
                    <code>{call.generationId}</code>
                  </dd>
                  <dt>Request id</dt>
                  <dd>{call.requestId === null ? "—" : <code>{call.requestId}</code>}</dd>
                  <dt>When (UTC)</dt>
                  <dd>{formatDateTime(call.createdAt)}</dd>
                  <dt>Account</dt>
                  <dd>
                    <Link href={`/admin/users/${call.userId}`}>{call.email ?? call.userId}</Link>
                    {call.keyPrefix !== null && <span className="muted small"> · key {call.keyPrefix}…</span>}
                  </dd>
                  <dt>Model</dt>
                  <dd>
                    {call.modelId}{" "}
                    <span className="muted small">
                      ({call.upstreamModel} on {call.channelName ?? call.provider})
                    </span>
                  </dd>
                  <dt>Status</dt>
                  <dd data-testid="found-status">
                    {call.httpStatus}
                    {call.errorType !== null && <span className="muted small"> · {call.errorType}</span>}
                    {call.cancelled && <span className="muted small"> · client left</span>}
                    {call.streamed && <span className="badge">stream</span>}
                  </dd>
                  <dt>Tokens</dt>
                  <dd>
                    {call.promptTokens.toLocaleString("en-US")} in · {call.completionTokens.toLocaleString("en-US")} out
                    {call.cachedTokens > 0 && ` · ${call.cachedTokens.toLocaleString("en-US")} cached`}
                    {call.reasoningTokens > 0 && ` · ${call.reasoningTokens.toLocaleString("en-US")} reasoning`}
                  </dd>
                  <dt>Cost</dt>
                  <dd data-testid="found-cost">
                    ${call.costUsd} <span className="muted small">({call.billingStatus})</span>
                  </dd>
                  <dt>Time</dt>
                  <dd>
                    {call.latencyMs.toLocaleString("en-US")} ms
                    {call.timeToFirstTokenMs !== null &&
                      ` · first token ${call.timeToFirstTokenMs.toLocaleString("en-US")} ms`}
                  </dd>
                </dl>
                {call.attempts !== null && (
                  <>
                    <h3 className="small">Upstream attempts</h3>
                    <ol className="attempt-list small">
                      {call.attempts.map((attempt, index) => (
                        <li key={index}>
                          {attempt.channelName} ({attempt.upstreamModel}): {attempt.status}
                          {attempt.errorType !== null && ` ${attempt.errorType}`} in{" "}
                          {attempt.latencyMs.toLocaleString("en-US")} ms
                        </li>
                      ))}
                    </ol>
                  </>
                )}
              </article>
            ))
          )}
        </section>
      )}
    </>
  );
}
