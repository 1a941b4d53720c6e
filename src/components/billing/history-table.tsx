"use client";

import type { inferRouterOutputs } from "@trpc/server";
import { formatDateTime, usdColumnFormat } from "~/components/ui/format";
import { LoadMoreButton } from "~/components/ui/load-more-button";
import type { AppRouter } from "~/server/api/root";

type HistoryPage = inferRouterOutputs<AppRouter>["billing"]["history"];

/** An infinite query of history pages (the customer's own, or an account an admin looks at). */
export interface HistoryQuery {
  data: { pages: HistoryPage[] } | undefined;
  isPending: boolean;
  isError: boolean;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

const KIND_LABELS: Record<string, string> = {
  topup: "Top-up",
  refund: "Refund",
  dispute: "Dispute",
  adjustment: "Adjustment",
  promo: "Promo code",
};

const dayFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});

/** "2026-12-05" → "5 Dec 2026". */
function formatDay(day: string): string {
  return dayFormat.format(new Date(`${day}T00:00:00Z`));
}

/**
 * An account's history, newest first: credits with the balance after each, and usage as one line per UTC day and
 * model with how many requests it covers.
 */
export function HistoryTable({ query: history, title = "History" }: { query: HistoryQuery; title?: string }) {
  const lines = history.data?.pages.flatMap((page) => page.items) ?? [];
  // Amounts and balances in one format: as many decimals as the most precise amount shown needs.
  const usd = usdColumnFormat(
    lines.flatMap((line) => (line.kind === "credit" ? [line.amountUsd, line.balanceAfterUsd] : [line.amountUsd])),
  );
  const requests = new Intl.NumberFormat("en-US");

  return (
    <section className="card" aria-labelledby="ledger-heading">
      <h2 id="ledger-heading" className="card__title">
        {title}
      </h2>
      {history.isPending ? (
        <p className="muted">Loading…</p>
      ) : history.isError ? (
        <p className="alert alert--error">Could not load the billing history.</p>
      ) : lines.length === 0 ? (
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
              {lines.map((line) =>
                line.kind === "credit" ? (
                  <tr key={line.id}>
                    <td data-label="Date (UTC)">{formatDateTime(line.at)}</td>
                    <td data-label="Type">{KIND_LABELS[line.entryKind] ?? line.entryKind}</td>
                    <td data-label="Note" className="table__note">
                      {line.note ?? <span className="muted">—</span>}
                    </td>
                    <td
                      data-label="Amount"
                      className={`table__number ${line.amountUsd.startsWith("-") ? "" : "amount--credit"}`}
                    >
                      {line.amountUsd.startsWith("-") ? usd(line.amountUsd) : `+${usd(line.amountUsd)}`}
                    </td>
                    <td data-label="Balance" className="table__number">
                      {usd(line.balanceAfterUsd)}
                    </td>
                  </tr>
                ) : (
                  <tr key={line.id} data-testid="usage-line">
                    <td data-label="Date (UTC)">{formatDay(line.day)}</td>
                    <td data-label="Type">Usage</td>
                    <td data-label="Note" className="table__note">
                      {line.modelId} · {requests.format(line.requests)} request{line.requests === 1 ? "" : "s"}
                    </td>
                    <td data-label="Amount" className="table__number">
                      {usd(line.amountUsd)}
                    </td>
                    <td data-label="Balance" className="table__number">
                      <span className="muted" title="Usage lines sum a day's calls of one model">
                        —
                      </span>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          <LoadMoreButton query={history} />
        </div>
      )}
    </section>
  );
}
