"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import Link from "next/link";
import { useState } from "react";
import { formErrorMessage } from "~/components/ui/form-error";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import type { AppRouter } from "~/server/api/root";
import { useTRPC } from "~/trpc/react";
import { EndpointPriceForm, PRICE_FIELDS, usdText } from "./endpoint-price-form";

type Endpoint = inferRouterOutputs<AppRouter>["admin"]["models"]["get"]["endpoints"][number];

function priceText(nano: bigint | null): string {
  return nano === null ? "—" : formatUsd(usdText(nano));
}

function markupText(basisPoints: number | null, platform: number): string {
  return basisPoints === null ? `${platform / 100}% (platform)` : `${basisPoints / 100}%`;
}

/** One channel's endpoint for the model: prices at a glance, and its editor and history on demand. */
export function EndpointCard(props: { modelId: string; endpoint: Endpoint; platformMarkupBasisPoints: number }) {
  const { endpoint } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const history = useQuery({
    ...trpc.admin.models.priceHistory.queryOptions({ endpointId: endpoint.id }),
    enabled: showHistory,
  });
  const toggle = useMutation(
    trpc.admin.models.updateEndpoint.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.models.pathKey() }),
    }),
  );
  const headingId = `endpoint-${endpoint.id}`;

  return (
    <article className="endpoint-card" aria-labelledby={headingId} data-testid="endpoint-card">
      <div className="card__header-row">
        <h3 id={headingId} className="endpoint-card__title">
          via <Link href={`/admin/channels#channel-${endpoint.channelId}`}>{endpoint.channelName}</Link>
          <span className="muted small"> · {endpoint.provider} · upstream name </span>
          <span className="key-prefix small">{endpoint.upstreamModel}</span>
        </h3>
        <span className="badge-row">
          {!endpoint.channelEnabled && <span className="badge badge--revoked">Channel disabled</span>}
          {endpoint.channelBroken && <span className="badge badge--danger">Channel broken</span>}
          <span className={`badge ${endpoint.enabled ? "badge--active" : "badge--revoked"}`}>
            {endpoint.enabled ? "Enabled" : "Disabled"}
          </span>
        </span>
      </div>
      <dl className="price-grid">
        {PRICE_FIELDS.map(([field, label]) => (
          <div key={field}>
            <dt>{label}</dt>
            <dd data-testid={`price-${field}`}>{priceText(endpoint[`${field}Nano`])}</dd>
          </div>
        ))}
        <div>
          <dt>Markup</dt>
          <dd>{markupText(endpoint.markupBasisPoints, props.platformMarkupBasisPoints)}</dd>
        </div>
        <div>
          <dt>Priority · weight</dt>
          <dd>
            {endpoint.priority} · {endpoint.weight}
          </dd>
        </div>
      </dl>
      <div className="button-row">
        <button
          type="button"
          className="button button--secondary small"
          onClick={() => setEditing(!editing)}
          aria-expanded={editing}
        >
          {editing ? "Close editor" : "Edit prices"}
        </button>
        <button
          type="button"
          className={`button small ${endpoint.enabled ? "button--danger" : "button--primary"}`}
          disabled={toggle.isPending}
          onClick={() => toggle.mutate({ id: endpoint.id, patch: { enabled: !endpoint.enabled } })}
        >
          {endpoint.enabled ? "Disable endpoint" : "Enable endpoint"}
        </button>
        <button
          type="button"
          className="button button--ghost small"
          onClick={() => setShowHistory(!showHistory)}
          aria-expanded={showHistory}
        >
          {showHistory ? "Hide price history" : "Price history"}
        </button>
      </div>
      {toggle.error !== null && <p className="alert alert--error form-message">{formErrorMessage(toggle.error)}</p>}
      {editing && <EndpointPriceForm endpoint={endpoint} onDone={() => setEditing(false)} />}
      {showHistory &&
        (history.isPending ? (
          <p className="muted small">Loading…</p>
        ) : history.isError ? (
          <p className="alert alert--error">{formErrorMessage(history.error)}</p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack" data-testid="price-history">
              <thead>
                <tr>
                  <th scope="col">From (UTC)</th>
                  <th scope="col">Set by</th>
                  <th scope="col" className="table__number">
                    Input
                  </th>
                  <th scope="col" className="table__number">
                    Output
                  </th>
                  <th scope="col" className="table__number">
                    Markup
                  </th>
                  <th scope="col" className="table__number">
                    Version
                  </th>
                </tr>
              </thead>
              <tbody>
                {history.data.map((version) => (
                  <tr key={version.id}>
                    <td data-label="From (UTC)">{formatDateTime(version.validFrom)}</td>
                    <td data-label="Set by">{version.changedBy}</td>
                    <td data-label="Input" className="table__number">
                      {formatUsd(usdText(version.inputPriceNano))}
                    </td>
                    <td data-label="Output" className="table__number">
                      {formatUsd(usdText(version.outputPriceNano))}
                    </td>
                    <td data-label="Markup" className="table__number">
                      {markupText(version.markupBasisPoints, props.platformMarkupBasisPoints)}
                    </td>
                    <td data-label="Version" className="table__number">
                      #{version.id}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </article>
  );
}
