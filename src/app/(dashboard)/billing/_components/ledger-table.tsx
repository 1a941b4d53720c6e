"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

const KIND_LABELS: Record<string, string> = {
  topup: "Top-up",
  usage: "Usage",
  refund: "Refund",
  dispute: "Dispute",
  adjustment: "Adjustment",
  promo: "Promo code",
};

/** `pageSize` must match the page's server-side prefetch, so that the first page arrives with the HTML. */
export function LedgerTable({ pageSize }: { pageSize: number }) {
  const trpc = useTRPC();
  const ledger = useInfiniteQuery(
    trpc.billing.ledger.infiniteQueryOptions(
      { limit: pageSize },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const entries = ledger.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section className="card" aria-labelledby="ledger-heading">
      <h2 id="ledger-heading" className="card__title">
        History
      </h2>
      {ledger.isPending ? (
        <p className="muted">Loading…</p>
      ) : ledger.isError ? (
        <p className="alert alert--error">Could not load your billing history.</p>
      ) : entries.length === 0 ? (
        <p className="muted">No credit or usage yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--stack" data-testid="ledger">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">Type</th>
                <th scope="col">Note</th>
                <th scope="col" className="table__number">
                  Amount
                </th>
                <th scope="col" className="table__number">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td data-label="Date (UTC)">{formatDateTime(entry.createdAt)}</td>
                  <td data-label="Type">{KIND_LABELS[entry.kind] ?? entry.kind}</td>
                  <td data-label="Note" className="table__note">
                    {entry.note ?? <span className="muted">—</span>}
                  </td>
                  <td
                    data-label="Amount"
                    className={`table__number ${entry.amountUsd.startsWith("-") ? "" : "amount--credit"}`}
                  >
                    {entry.amountUsd.startsWith("-") ? formatUsd(entry.amountUsd) : `+${formatUsd(entry.amountUsd)}`}
                  </td>
                  <td data-label="Balance" className="table__number">
                    {formatUsd(entry.balanceAfterUsd)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {ledger.hasNextPage && (
            <p className="table-note">
              <button
                type="button"
                className="button button--secondary small"
                disabled={ledger.isFetchingNextPage}
                onClick={() => void ledger.fetchNextPage()}
              >
                {ledger.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
