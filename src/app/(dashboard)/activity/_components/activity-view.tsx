"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatUsd, usdColumnFormat } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";
import { RequestLog, type LogFilters } from "./request-log";
import { SpendChart } from "./spend-chart";

export const LOG_PAGE_SIZE = 50;

type Range = "24h" | "7d" | "30d" | "custom";
type GroupBy = "model" | "key" | "provider";

interface Filters {
  range: Range;
  from: string | null;
  to: string | null;
  modelId: string | null;
  apiKeyId: string | null;
  provider: string | null;
}

const NO_FILTERS: Filters = { range: "24h", from: null, to: null, modelId: null, apiKeyId: null, provider: null };
const NO_LOG_FILTERS: LogFilters = { status: null, streamed: null, requestId: null };

/** The page's first view, prefetched on the server with exactly these inputs. */
export const DEFAULT_VIEW = {
  summary: { ...NO_FILTERS, groupBy: "model" as GroupBy },
  log: { ...NO_FILTERS, ...NO_LOG_FILTERS },
};

const RANGES: { value: Range; label: string }[] = [
  { value: "24h", label: "24 hours" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "custom", label: "Custom" },
];

const GROUPS: { value: GroupBy; label: string }[] = [
  { value: "model", label: "Model" },
  { value: "key", label: "Key" },
  { value: "provider", label: "Provider" },
];

const integer = new Intl.NumberFormat("en-US");
const today = () => new Date().toISOString().slice(0, 10);

/** The query string the CSV export takes: the same filters as the page. */
function exportQuery(filters: Filters, log: LogFilters | null): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, ...(log ?? {}) })) {
    if (value !== null && value !== "") query.set(name, String(value));
  }
  return query.toString();
}

export function ActivityView() {
  const trpc = useTRPC();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [groupBy, setGroupBy] = useState<GroupBy>("model");
  const [logFilters, setLogFilters] = useState<LogFilters>(NO_LOG_FILTERS);
  const options = useQuery(trpc.activity.filterOptions.queryOptions());
  const customIncomplete = filters.range === "custom" && (filters.from === null || filters.to === null);
  const summary = useQuery({
    ...trpc.activity.summary.queryOptions({ ...filters, groupBy }),
    enabled: !customIncomplete,
    placeholderData: (previous) => previous,
  });
  const set = (change: Partial<Filters>) => setFilters((current) => ({ ...current, ...change }));
  const data = summary.data;
  const filtered = filters.modelId !== null || filters.apiKeyId !== null || filters.provider !== null;
  // No model used in the last year: a new account, told how to make its first request.
  const neverUsed = options.data !== undefined && options.data.models.length === 0;

  return (
    <div className="activity">
      <section className="card activity-filters" aria-label="Filters">
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map((range) => (
            <button
              key={range.value}
              type="button"
              className={`segmented__option${filters.range === range.value ? " segmented__option--on" : ""}`}
              aria-pressed={filters.range === range.value}
              onClick={() =>
                set(
                  range.value === "custom"
                    ? { range: "custom", from: filters.from ?? today(), to: filters.to ?? today() }
                    : { range: range.value, from: null, to: null },
                )
              }
            >
              {range.label}
            </button>
          ))}
        </div>
        {filters.range === "custom" && (
          <div className="activity-filters__dates">
            <label>
              From
              <input
                type="date"
                value={filters.from ?? ""}
                max={filters.to ?? undefined}
                onChange={(event) => set({ from: event.target.value === "" ? null : event.target.value })}
              />
            </label>
            <label>
              To
              <input
                type="date"
                value={filters.to ?? ""}
                min={filters.from ?? undefined}
                onChange={(event) => set({ to: event.target.value === "" ? null : event.target.value })}
              />
            </label>
          </div>
        )}
        <div className="activity-filters__selects">
          <label>
            Model
            <select value={filters.modelId ?? ""} onChange={(event) => set({ modelId: event.target.value || null })}>
              <option value="">All models</option>
              {options.data?.models.map((model) => (
                <option key={model} value={model}>
                  {model}
                </option>
              ))}
            </select>
          </label>
          <label>
            Key
            <select value={filters.apiKeyId ?? ""} onChange={(event) => set({ apiKeyId: event.target.value || null })}>
              <option value="">All keys</option>
              {options.data?.keys.map((key) => (
                <option key={key.id} value={key.id}>
                  {key.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Provider
            <select value={filters.provider ?? ""} onChange={(event) => set({ provider: event.target.value || null })}>
              <option value="">All providers</option>
              {options.data?.providers.map((provider) => (
                <option key={provider} value={provider}>
                  {provider}
                </option>
              ))}
            </select>
          </label>
        </div>
      </section>

      {summary.isError && (
        <p className="alert alert--error" role="alert">
          {summary.error.message}
        </p>
      )}
      {customIncomplete && <p className="muted">Pick the first and last day of the range.</p>}

      {data !== undefined && (
        <>
          <section className="activity-totals" aria-label="Totals">
            <div className="card stat">
              <div className="stat__label">Spend</div>
              <div className="stat__value" data-testid="total-spend">
                {formatUsd(data.totals.spendUsd)}
              </div>
            </div>
            <div className="card stat">
              <div className="stat__label">Requests</div>
              <div className="stat__value" data-testid="total-requests">
                {integer.format(data.totals.requests)}
              </div>
              {data.totals.errors > 0 && <div className="muted small">{integer.format(data.totals.errors)} failed</div>}
            </div>
            <div className="card stat">
              <div className="stat__label">Tokens</div>
              <div className="stat__value">
                {integer.format(data.totals.promptTokens + data.totals.completionTokens)}
              </div>
              <div className="muted small">
                {integer.format(data.totals.promptTokens)} in · {integer.format(data.totals.completionTokens)} out
              </div>
            </div>
            <div className="card stat">
              <div className="stat__label">Average per request</div>
              <div className="stat__value">
                {data.totals.averageCostUsd === null ? "—" : formatUsd(data.totals.averageCostUsd)}
              </div>
              {data.totals.averageLatencyMs !== null && (
                <div className="muted small">{integer.format(data.totals.averageLatencyMs)} ms latency</div>
              )}
            </div>
          </section>

          {data.totals.requests === 0 ? (
            <section className="card activity-empty">
              <h2 className="card__title">{neverUsed ? "No requests yet" : "Nothing in this range"}</h2>
              {!neverUsed ? (
                <p className="muted">
                  No request matches {filtered ? "these filters" : "this range"}. Try a longer range or fewer filters.
                </p>
              ) : (
                <>
                  <p>
                    Requests you make with your keys show up here within a moment, with what they cost. Create a key on
                    the <Link href="/keys">API keys</Link> page, then try the free-to-run demo model:
                  </p>
                  <pre className="code-block">
                    <code>{`curl ${typeof window === "undefined" ? "" : window.location.origin}/v1/chat/completions \\
  -H "Authorization: Bearer sk-gw-…" -H "Content-Type: application/json" \\
  -d '{"model":"tollgate/echo","messages":[{"role":"user","content":"Hello"}]}'`}</code>
                  </pre>
                </>
              )}
            </section>
          ) : (
            <>
              <section className="card" aria-labelledby="spend-chart-heading">
                <div className="card__header">
                  <h2 id="spend-chart-heading" className="card__title">
                    Spend by {groupBy} per {data.window.bucket}
                  </h2>
                  <div className="segmented segmented--small" role="group" aria-label="Group by">
                    {GROUPS.map((group) => (
                      <button
                        key={group.value}
                        type="button"
                        className={`segmented__option${groupBy === group.value ? " segmented__option--on" : ""}`}
                        aria-pressed={groupBy === group.value}
                        onClick={() => setGroupBy(group.value)}
                      >
                        {group.label}
                      </button>
                    ))}
                  </div>
                </div>
                <SpendChart summary={data} />
              </section>
              <div className="activity-breakdowns">
                <Breakdown title="Spend by model" rows={data.byModel} />
                <Breakdown title="Spend by key" rows={data.byKey} />
              </div>
            </>
          )}
        </>
      )}

      <RequestLog
        filters={customIncomplete ? null : { ...filters, ...logFilters }}
        logFilters={logFilters}
        onLogFiltersChange={setLogFilters}
        pageSize={LOG_PAGE_SIZE}
        exportLinks={
          customIncomplete ? null : (
            <span className="activity-exports">
              <a
                className="button button--secondary small"
                href={`/api/activity/export?${exportQuery(filters, logFilters)}&kind=requests`}
              >
                Download requests (CSV)
              </a>
              <a
                className="button button--secondary small"
                href={`/api/activity/export?${exportQuery(filters, null)}&kind=daily`}
              >
                Download daily totals (CSV)
              </a>
            </span>
          )
        }
      />
    </div>
  );
}

function Breakdown({
  title,
  rows,
}: {
  title: string;
  rows: { id: string | null; label: string; requests: number; tokens: number; spendUsd: string }[];
}) {
  const usd = usdColumnFormat(rows.map((row) => row.spendUsd));
  return (
    <section className="card">
      <h2 className="card__title">{title}</h2>
      <div className="table-wrap">
        <table className="table table--wrap table--stack">
          <thead>
            <tr>
              <th scope="col">{title.endsWith("key") ? "Key" : "Model"}</th>
              <th scope="col" className="table__number">
                Requests
              </th>
              <th scope="col" className="table__number">
                Tokens
              </th>
              <th scope="col" className="table__number">
                Spend
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id ?? "none"}>
                <td data-label={title.endsWith("key") ? "Key" : "Model"} className="table__wrap">
                  {row.label}
                </td>
                <td data-label="Requests" className="table__number">
                  {integer.format(row.requests)}
                </td>
                <td data-label="Tokens" className="table__number">
                  {integer.format(row.tokens)}
                </td>
                <td data-label="Spend" className="table__number">
                  {usd(row.spendUsd)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
