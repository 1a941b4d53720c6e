import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { formatDateTime, formatUsd, usdColumnFormat } from "~/components/ui/format";
import { api, getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { AccountBadges } from "../../_components/account-badges";
import { Stat } from "../../_components/stat";
import { AccountHistory, HISTORY_PAGE_SIZE } from "./_components/account-history";
import { AdjustCreditForm } from "./_components/adjust-credit-form";
import { DailySpendChart } from "./_components/daily-spend-chart";
import { DisableAccountForm } from "./_components/disable-account-form";
import { RateLimitsForm } from "./_components/rate-limits-form";

export const metadata: Metadata = { title: "Account · Admin" };

/** One customer's account as support needs it: money, keys, limits, payments, history, and the actions on it. */
export default async function AdminAccountPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const account = await api.admin.users.get({ userId: id }).catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") notFound();
    throw error;
  });
  await getQueryClient().prefetchInfiniteQuery(
    trpc.admin.users.history.infiniteQueryOptions(
      { userId: id, limit: HISTORY_PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const topUpUsd = usdColumnFormat(account.topUps.map((topUp) => topUp.amountUsd));

  return (
    <HydrateClient>
      <p className="small">
        <Link href="/admin/users">← Users</Link>
      </p>
      <div className="page-heading">
        <h1 className="admin-account__email">{account.email}</h1>
        <p className="muted">
          <AccountBadges role={account.role} disabledAt={account.disabledAt} deletedAt={account.deletedAt} />{" "}
          {account.name && <>{account.name} · </>}
          signed up {formatDateTime(account.createdAt)} UTC ·{" "}
          {account.emailVerified ? "email verified" : "email not verified"} ·{" "}
          <span className="key-prefix">{account.id}</span>
        </p>
      </div>
      {account.disabledAt !== null && (
        <p className="alert alert--error" data-testid="disabled-notice">
          Disabled {formatDateTime(account.disabledAt)} UTC: {account.disabledReason ?? "no reason given"}. Its keys are
          refused and it cannot sign in.
        </p>
      )}
      {account.flagReason !== null && <p className="alert alert--info">Balance flagged: {account.flagReason}</p>}

      <section className="card" aria-label="Money">
        <div className="stat-row stat-row--five">
          <Stat label="Balance" value={formatUsd(account.balanceUsd)} testId="account-balance" />
          <Stat label="Held by calls in flight" value={formatUsd(account.heldUsd)} />
          <Stat label="Available" value={formatUsd(account.availableUsd)} />
          <Stat label="Spent, 30 days" value={formatUsd(account.spentUsd)} />
          <Stat label="Requests, 30 days" value={account.requests.toLocaleString("en-US")} />
        </div>
        <DailySpendChart days={account.spendByDay} />
      </section>

      <div className="admin-grid">
        <AdjustCreditForm userId={account.id} />
        <div className="stack">
          <DisableAccountForm userId={account.id} disabled={account.disabledAt !== null} />
          <RateLimitsForm userId={account.id} limits={account.rateLimits} />
        </div>
      </div>

      <section className="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading" className="card__title">
          API keys
        </h2>
        {account.keys.length === 0 ? (
          <p className="muted">No keys.</p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack" data-testid="account-keys">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last used (UTC)</th>
                  <th scope="col" className="table__number">
                    Spent this period
                  </th>
                  <th scope="col" className="table__number">
                    Limit
                  </th>
                </tr>
              </thead>
              <tbody>
                {account.keys.map((key) => (
                  <tr key={key.id}>
                    <td data-label="Name">{key.name}</td>
                    <td data-label="Key" className="key-prefix">
                      {key.prefix}…
                    </td>
                    <td data-label="Status">
                      <span className={`badge ${key.status === "active" ? "badge--active" : "badge--revoked"}`}>
                        {key.status}
                      </span>
                    </td>
                    <td data-label="Last used (UTC)">{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</td>
                    <td data-label="Spent this period" className="table__number">
                      {formatUsd(key.periodSpendUsd)}
                    </td>
                    <td data-label="Limit" className="table__number">
                      {key.spendLimitUsd === null ? "none" : `${formatUsd(key.spendLimitUsd)} ${key.limitReset ?? ""}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <div className="admin-grid">
        <section className="card" aria-labelledby="topups-heading">
          <h2 id="topups-heading" className="card__title">
            Top-ups
          </h2>
          {account.topUps.length === 0 ? (
            <p className="muted">No top-ups.</p>
          ) : (
            <div className="table-wrap">
              <table className="table table--stack">
                <thead>
                  <tr>
                    <th scope="col">Date (UTC)</th>
                    <th scope="col">Source</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="table__number">
                      Amount
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {account.topUps.map((topUp) => (
                    <tr key={topUp.id}>
                      <td data-label="Date (UTC)">{formatDateTime(topUp.createdAt)}</td>
                      <td data-label="Source">{topUp.source === "auto" ? "Auto top-up" : "Checkout"}</td>
                      <td data-label="Status" title={topUp.failureMessage ?? undefined}>
                        {topUp.status}
                        {topUp.failureMessage && <span className="muted small"> · {topUp.failureMessage}</span>}
                      </td>
                      <td data-label="Amount" className="table__number">
                        {topUpUsd(topUp.amountUsd)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section className="card" aria-labelledby="disputes-heading">
          <h2 id="disputes-heading" className="card__title">
            Disputes
          </h2>
          {account.disputes.length === 0 ? (
            <p className="muted">No disputes.</p>
          ) : (
            <ul className="plain-list">
              {account.disputes.map((dispute) => (
                <li key={dispute.id}>
                  {formatDateTime(dispute.createdAt)} UTC · {formatUsd(dispute.amountUsd)}
                  {dispute.note && <span className="muted"> · {dispute.note}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <AccountHistory userId={account.id} />
    </HydrateClient>
  );
}
