import type { Metadata } from "next";
import Link from "next/link";
import { formatDateTime, usdColumnFormat } from "~/components/ui/format";
import { dayParam, keptParams, textParam, type SearchParams } from "../_components/search-params";
import { FilterTail } from "../_components/filter-tail";
import { api, getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { PromoCodes } from "./_components/promo-codes";
import { ReconcileCard } from "./_components/reconcile-card";

export const metadata: Metadata = { title: "Money · Admin" };

const KINDS = ["topup", "usage", "refund", "dispute", "adjustment", "promo"] as const;
const PAGE_SIZE = 50;

/** Promo codes, the whole ledger with filters, reconciliation on demand, and Stripe's events. */
export default async function AdminMoneyPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const kind = KINDS.find((candidate) => candidate === textParam(params, "kind"));
  const kept = keptParams(params, ["kind", "email", "from", "to"]);
  const before = textParam(params, "before");
  const [ledger, events] = await Promise.all([
    api.admin.money.ledger({
      kind: kind ?? null,
      email: textParam(params, "email") ?? null,
      from: dayParam(textParam(params, "from")) ?? null,
      to: dayParam(textParam(params, "to"), true) ?? null,
      limit: PAGE_SIZE,
      cursor: before !== undefined && /^\d{1,19}$/.test(before) ? before : null,
    }),
    api.admin.money.stripeEvents({ limit: 25 }),
  ]);
  await getQueryClient().prefetchQuery(trpc.admin.promoCodes.list.queryOptions());
  const usd = usdColumnFormat(ledger.items.flatMap((entry) => [entry.amountUsd, entry.balanceAfterUsd]));
  const filtered = Object.keys(kept).length > 0;

  return (
    <HydrateClient>
      <div className="page-heading">
        <h1>Money</h1>
        <p className="muted">Promo codes, every account&apos;s ledger, reconciliation, and what Stripe told us.</p>
      </div>
      <ReconcileCard />
      <PromoCodes />
      <section className="card" aria-labelledby="ledger-heading">
        <h2 id="ledger-heading" className="card__title">
          Ledger
        </h2>
        <form method="get" className="filter-form" role="search" aria-label="Filter the ledger">
          <label className="field" htmlFor="ledger-kind">
            <span className="field__label">Kind</span>
            <select id="ledger-kind" name="kind" className="input" defaultValue={kind ?? ""}>
              <option value="">All kinds</option>
              {KINDS.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
          <label className="field" htmlFor="ledger-email">
            <span className="field__label">Account email</span>
            <input
              id="ledger-email"
              name="email"
              className="input"
              defaultValue={kept.email}
              placeholder="part of it"
            />
          </label>
          <FilterTail idPrefix="ledger" from={kept.from} to={kept.to} filtered={filtered} clearHref="/admin/money" />
        </form>
        {ledger.items.length === 0 ? (
          <p className="muted">{filtered ? "No entry matches these filters." : "The ledger is empty."}</p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack table--wrap" data-testid="admin-ledger">
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Account</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Note</th>
                  <th scope="col" className="table__number">
                    Amount
                  </th>
                  <th scope="col" className="table__number">
                    Balance after
                  </th>
                </tr>
              </thead>
              <tbody>
                {ledger.items.map((entry) => (
                  <tr key={entry.id}>
                    <td data-label="When (UTC)">{formatDateTime(entry.createdAt)}</td>
                    <td data-label="Account">
                      <Link href={`/admin/users/${entry.userId}`}>{entry.email}</Link>
                    </td>
                    <td data-label="Kind">{entry.kind}</td>
                    <td data-label="Note" className="table__note">
                      {entry.note ?? <span className="muted">{entry.externalId}</span>}
                    </td>
                    <td
                      data-label="Amount"
                      className={`table__number ${entry.amountUsd.startsWith("-") ? "" : "amount--credit"}`}
                    >
                      {usd(entry.amountUsd)}
                    </td>
                    <td data-label="Balance after" className="table__number">
                      {usd(entry.balanceAfterUsd)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {ledger.nextCursor !== null && (
              <p className="table-note">
                <Link
                  className="button button--secondary small"
                  href={`/admin/money?${new URLSearchParams({ ...kept, before: ledger.nextCursor }).toString()}`}
                >
                  Older
                </Link>
              </p>
            )}
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="stripe-heading">
        <h2 id="stripe-heading" className="card__title">
          Stripe events
        </h2>
        {events.length === 0 ? (
          <p className="muted">No webhook event received yet. Stripe sends them to /api/stripe/webhook.</p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack" data-testid="stripe-events">
              <thead>
                <tr>
                  <th scope="col">Received (UTC)</th>
                  <th scope="col">Type</th>
                  <th scope="col">Event</th>
                  <th scope="col">Handled</th>
                </tr>
              </thead>
              <tbody>
                {events.map((event) => (
                  <tr key={event.id}>
                    <td data-label="Received (UTC)">{formatDateTime(event.receivedAt)}</td>
                    <td data-label="Type">
                      <code>{event.type}</code>
                    </td>
                    <td data-label="Event" className="key-prefix">
                      {event.id}
                    </td>
                    <td data-label="Handled">
                      <span
                        className={`badge ${event.outcome === "processed" ? "badge--active" : event.outcome === "failing" ? "badge--danger" : "badge--revoked"}`}
                      >
                        {event.outcome}
                      </span>
                      {event.attempts > 1 && <span className="muted small"> · {event.attempts} attempts</span>}
                      {event.lastError && <div className="muted small">{event.lastError}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </HydrateClient>
  );
}
