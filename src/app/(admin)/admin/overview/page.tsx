import type { Metadata } from "next";
import Link from "next/link";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import { api } from "~/trpc/server";
import { Stat } from "../_components/stat";
import { MoneyChart } from "./_components/money-chart";

export const metadata: Metadata = { title: "Overview · Admin" };

function percent(share: number | null): string {
  return share === null ? "—" : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

/** Money in and margin over 30 days, the gateway now, and what needs a human. */
export default async function AdminOverviewPage() {
  const overview = await api.admin.overview.get();
  const { totals } = overview;
  const marginShare = Number(totals.billedUsd) === 0 ? null : Number(totals.marginUsd) / Number(totals.billedUsd);

  return (
    <>
      <div className="page-heading">
        <h1>Overview</h1>
        <p className="muted">The last 30 days by UTC day; “now” is the last five minutes of upstream calls.</p>
      </div>
      {overview.brokenChannels.length > 0 && (
        <div className="alert alert--error" data-testid="broken-channels">
          {overview.brokenChannels.map((channel) => (
            <p key={channel.id}>
              Channel <Link href={`/admin/channels#channel-${channel.id}`}>{channel.name}</Link> is broken and skipped
              by routing: {channel.reason}
            </p>
          ))}
        </div>
      )}
      <section className="card" aria-label="Totals">
        <div className="stat-row stat-row--five">
          <Stat label="Top-ups" value={formatUsd(totals.topUpsUsd)} />
          <Stat label="Usage billed" value={formatUsd(totals.billedUsd)} testId="overview-billed" />
          <Stat label="Provider cost" value={formatUsd(totals.providerCostUsd)} />
          <Stat label="Margin" value={`${formatUsd(totals.marginUsd)} (${percent(marginShare)})`} />
          <Stat label="Requests" value={totals.requests.toLocaleString("en-US")} />
        </div>
        <MoneyChart days={overview.days} />
      </section>
      <section className="card" aria-label="Now">
        <div className="stat-row stat-row--five">
          <Stat label="Requests / minute now" value={overview.now.requestsPerMinute.toFixed(1)} />
          <Stat label="Error rate now" value={percent(overview.now.errorRate)} />
          <Stat label="Active accounts, 24 h" value={String(overview.activeAccounts.lastDay)} />
          <Stat label="Active accounts, 30 days" value={String(overview.activeAccounts.last30Days)} />
        </div>
      </section>
      <section className="card" aria-labelledby="worst-heading">
        <h2 id="worst-heading" className="card__title">
          Channels to watch (last hour)
        </h2>
        {overview.worstChannels.length === 0 ? (
          <p className="muted">No upstream calls in the last hour.</p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack">
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col" className="table__number">
                    Calls
                  </th>
                  <th scope="col" className="table__number">
                    Error rate
                  </th>
                  <th scope="col" className="table__number">
                    p50 latency (30 min)
                  </th>
                </tr>
              </thead>
              <tbody>
                {overview.worstChannels.map((channel) => (
                  <tr key={channel.channelId}>
                    <td data-label="Channel">
                      <Link href={`/admin/channels#channel-${channel.channelId}`}>{channel.name}</Link>
                    </td>
                    <td data-label="Calls" className="table__number">
                      {channel.requests}
                    </td>
                    <td data-label="Error rate" className="table__number">
                      {percent(channel.errorRate)}
                    </td>
                    <td data-label="p50 latency (30 min)" className="table__number">
                      {channel.latencyP50Ms === null ? "—" : `${Math.round(channel.latencyP50Ms)} ms`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <div className="admin-grid">
        <section className="card" aria-labelledby="failed-heading">
          <h2 id="failed-heading" className="card__title">
            Failed top-ups
          </h2>
          {overview.failedTopUps.length === 0 ? (
            <p className="muted">None in 30 days.</p>
          ) : (
            <ul className="plain-list" data-testid="failed-top-ups">
              {overview.failedTopUps.map((topUp) => (
                <li key={topUp.id}>
                  <Link href={`/admin/users/${topUp.userId}`}>{topUp.email}</Link> · {formatUsd(topUp.amountUsd)} ·{" "}
                  {formatDateTime(topUp.createdAt)} UTC
                  {topUp.failureMessage && <span className="muted"> · {topUp.failureMessage}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="disputes-heading">
          <h2 id="disputes-heading" className="card__title">
            Disputes
          </h2>
          {overview.disputes.length === 0 ? (
            <p className="muted">None in 30 days.</p>
          ) : (
            <ul className="plain-list">
              {overview.disputes.map((dispute) => (
                <li key={dispute.id}>
                  <Link href={`/admin/users/${dispute.userId}`}>{dispute.email}</Link> · {formatUsd(dispute.amountUsd)}{" "}
                  · {formatDateTime(dispute.createdAt)} UTC
                  {dispute.note && <span className="muted"> · {dispute.note}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}
