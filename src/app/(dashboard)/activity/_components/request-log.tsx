"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { formatDateTime, formatUsd, usdColumnFormat } from "~/components/ui/format";
import { LoadMoreButton } from "~/components/ui/load-more-button";
import { useTRPC } from "~/trpc/react";

export interface LogFilters {
  status: "success" | "error" | null;
  streamed: boolean | null;
  requestId: string | null;
}

interface AllFilters extends LogFilters {
  range: "24h" | "7d" | "30d" | "custom";
  from: string | null;
  to: string | null;
  modelId: string | null;
  apiKeyId: string | null;
  provider: string | null;
}

const integer = new Intl.NumberFormat("en-US");

/** The request log: one row per generation, newest first, a page at a time; a row opens its detail. */
export function RequestLog({
  filters,
  logFilters,
  onLogFiltersChange,
  pageSize,
  exportLinks,
}: {
  /** Null while the page's filters are incomplete (a custom range without its days). */
  filters: AllFilters | null;
  logFilters: LogFilters;
  onLogFiltersChange: (filters: LogFilters) => void;
  /** Must match the page's server-side prefetch, so the first page arrives with the HTML. */
  pageSize: number;
  exportLinks: ReactNode;
}) {
  const trpc = useTRPC();
  const [selected, setSelected] = useState<string | null>(null);
  const [requestIdDraft, setRequestIdDraft] = useState(logFilters.requestId ?? "");
  const log = useInfiniteQuery({
    ...trpc.activity.log.infiniteQueryOptions(
      { ...(filters ?? { range: "24h" }), limit: pageSize },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
    enabled: filters !== null,
  });
  const rows = log.data?.pages.flatMap((page) => page.items) ?? [];
  const usd = usdColumnFormat(rows.map((row) => row.costUsd));
  const set = (change: Partial<LogFilters>) => onLogFiltersChange({ ...logFilters, ...change });

  return (
    <section className="card" aria-labelledby="log-heading">
      <div className="card__header">
        <h2 id="log-heading" className="card__title">
          Requests
        </h2>
        {exportLinks}
      </div>
      <div className="log-filters">
        <label>
          Status
          <select
            value={logFilters.status ?? ""}
            onChange={(event) => set({ status: (event.target.value || null) as LogFilters["status"] })}
          >
            <option value="">Any status</option>
            <option value="success">Succeeded</option>
            <option value="error">Failed</option>
          </select>
        </label>
        <label>
          Streamed
          <select
            value={logFilters.streamed === null ? "" : String(logFilters.streamed)}
            onChange={(event) => set({ streamed: event.target.value === "" ? null : event.target.value === "true" })}
          >
            <option value="">Streamed or not</option>
            <option value="true">Streamed</option>
            <option value="false">Not streamed</option>
          </select>
        </label>
        <form
          className="log-filters__search"
          onSubmit={(event) => {
            event.preventDefault();
            set({ requestId: requestIdDraft.trim() === "" ? null : requestIdDraft.trim() });
          }}
        >
          <label>
            Request id
            <input
              type="search"
              placeholder="req-… or gen-…"
              value={requestIdDraft}
              onChange={(event) => setRequestIdDraft(event.target.value)}
            />
          </label>
          <button type="submit" className="button button--secondary small">
            Find
          </button>
        </form>
      </div>

      {log.isError ? (
        <p className="alert alert--error">{log.error.message}</p>
      ) : log.isPending && filters !== null ? (
        <p className="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No requests match.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--wrap table--stack log-table" data-testid="request-log">
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Model</th>
                <th scope="col">Key</th>
                <th scope="col" className="table__number">
                  Tokens in / out
                </th>
                <th scope="col" className="table__number">
                  Cost
                </th>
                <th scope="col" className="table__number">
                  Latency
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr
                  key={row.id}
                  className={`log-table__row${selected === row.id ? " log-table__row--selected" : ""}`}
                  data-generation-id={row.id}
                  tabIndex={0}
                  aria-label={`Request ${row.id}`}
                  onClick={() => setSelected(row.id)}
                  onKeyDown={(event) => {
                    if (event.key === "Enter" || event.key === " ") {
                      event.preventDefault();
                      setSelected(row.id);
                    }
                  }}
                >
                  <td data-label="Time">{formatDateTime(row.createdAt)}</td>
                  <td data-label="Model">
                    {row.modelId}
                    {row.streamed && <span className="badge">stream</span>}
                    <div className="muted small">{row.provider}</div>
                  </td>
                  <td data-label="Key">
                    {row.playground ? (
                      <span className="badge badge--playground" title="Made in the playground">
                        {row.keyLabel}
                      </span>
                    ) : (
                      (row.keyLabel ?? <span className="muted">—</span>)
                    )}
                  </td>
                  <td data-label="Tokens" className="table__number">
                    {integer.format(row.promptTokens)} / {integer.format(row.completionTokens)}
                    {(row.cachedTokens > 0 || row.reasoningTokens > 0) && (
                      <div className="muted small">
                        {row.cachedTokens > 0 && `${integer.format(row.cachedTokens)} cached`}
                        {row.cachedTokens > 0 && row.reasoningTokens > 0 && " · "}
                        {row.reasoningTokens > 0 && `${integer.format(row.reasoningTokens)} reasoning`}
                      </div>
                    )}
                  </td>
                  <td data-label="Cost" className="table__number" data-testid="log-cost">
                    {usd(row.costUsd)}
                  </td>
                  <td data-label="Latency" className="table__number">
                    {integer.format(row.latencyMs)} ms
                    {row.timeToFirstTokenMs !== null && (
                      <div className="muted small">first token {integer.format(row.timeToFirstTokenMs)} ms</div>
                    )}
                  </td>
                  <td data-label="Status">
                    <span className={`status ${row.httpStatus >= 400 ? "status--error" : "status--ok"}`}>
                      {row.httpStatus}
                    </span>
                    {row.cancelled ? (
                      <div className="muted small">cancelled</div>
                    ) : (
                      row.finishReason !== null && <div className="muted small">{row.finishReason}</div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <LoadMoreButton query={log} />
        </div>
      )}
      {/* The detail follows the list: a row that the filters no longer show closes it. */}
      {selected !== null && rows.some((row) => row.id === selected) && (
        <GenerationPanel id={selected} onClose={() => setSelected(null)} />
      )}
    </section>
  );
}

/** Everything GET /v1/generation tells about one request, and the id to quote to support. */
function GenerationPanel({ id, onClose }: { id: string; onClose: () => void }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.activity.generation.queryOptions({ id }));
  const data = detail.data;
  return (
    <aside className="generation-panel" aria-label="Request detail" data-testid="generation-panel">
      <div className="card__header">
        <h3>Request detail</h3>
        <button type="button" className="button button--secondary small" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="small">
        Generation id <code data-testid="generation-id">{id}</code>
        {data?.requestId != null && (
          <>
            {" "}
            · request id <code data-testid="request-id">{data.requestId}</code>
          </>
        )}
        : quote either to support.
      </p>
      {detail.isPending ? (
        <p className="muted">Loading…</p>
      ) : detail.isError || data === undefined ? (
        <p className="alert alert--error">Could not load this request.</p>
      ) : (
        <>
          <dl className="detail-list">
            <dt>Started</dt>
            <dd>{formatDateTime(data.createdAt)} UTC</dd>
            <dt>Model</dt>
            <dd>
              {data.modelId}{" "}
              <span className="muted">
                ({data.upstreamModel} at {data.provider})
              </span>
            </dd>
            <dt>Key</dt>
            <dd>{data.playground ? "Playground (made in the dashboard, no key of yours)" : (data.keyLabel ?? "—")}</dd>
            <dt>Status</dt>
            <dd>
              {data.httpStatus}
              {data.errorType !== null && ` (${data.errorType})`}
              {data.cancelled && " · cancelled by the client"}
            </dd>
            <dt>Finish reason</dt>
            <dd>{data.finishReason ?? "—"}</dd>
            <dt>Tokens</dt>
            <dd>
              {integer.format(data.promptTokens)} in ({integer.format(data.cachedTokens)} cached,{" "}
              {integer.format(data.cacheWriteTokens)} cache write) · {integer.format(data.completionTokens)} out (
              {integer.format(data.reasoningTokens)} reasoning)
            </dd>
            <dt>Cost</dt>
            <dd>
              {formatUsd(data.costUsd)} <span className="muted">({data.billingStatus})</span>
            </dd>
            <dt>Latency</dt>
            <dd>
              {integer.format(data.latencyMs)} ms
              {data.timeToFirstTokenMs !== null && `, first token after ${integer.format(data.timeToFirstTokenMs)} ms`}
            </dd>
            <dt>Upstream id</dt>
            <dd>{data.upstreamId ?? "—"}</dd>
          </dl>
          <h4>Upstream attempts</h4>
          <div className="table-wrap">
            <table className="table table--wrap table--stack">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Upstream model</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="table__number">
                    Latency
                  </th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {data.attempts.map((attempt, index) => (
                  <tr key={index}>
                    <td data-label="Attempt">{index + 1}</td>
                    <td data-label="Channel">
                      {attempt.channelName} <span className="muted">({attempt.provider})</span>
                    </td>
                    <td data-label="Upstream model">{attempt.upstreamModel}</td>
                    <td data-label="Status">{attempt.status}</td>
                    <td data-label="Latency" className="table__number">
                      {integer.format(attempt.latencyMs)} ms
                    </td>
                    <td data-label="Error">{attempt.errorType ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </aside>
  );
}
