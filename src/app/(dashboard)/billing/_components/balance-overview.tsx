"use client";

import { useQuery } from "@tanstack/react-query";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

/** Balance, what calls in flight hold of it, and what is left; re-read while a payment is being confirmed. */
export function BalanceOverview({ awaitingPayment }: { awaitingPayment: boolean }) {
  const trpc = useTRPC();
  const overview = useQuery({
    ...trpc.billing.overview.queryOptions(),
    // Credit arrives with Stripe's webhook, seconds after the redirect back here: look again for about two minutes.
    refetchInterval: (query) => (awaitingPayment && query.state.dataUpdateCount < 24 ? 5_000 : false),
  });
  const show = (pick: (data: NonNullable<typeof overview.data>) => string) =>
    overview.data !== undefined ? formatUsd(pick(overview.data)) : overview.isError ? "—" : "…";

  return (
    <>
      {overview.data?.flagged === true && (
        <p className="alert alert--error" role="alert">
          Your account is under review
          {overview.data.flaggedAt !== null && ` since ${formatDateTime(overview.data.flaggedAt)} UTC`}
          {overview.data.flagReason !== null && ` (${overview.data.flagReason})`}. Contact support if this is
          unexpected.
        </p>
      )}
      <div className="stat-row">
        <section className="card stat" aria-labelledby="billing-balance">
          <h2 id="billing-balance" className="stat__label">
            Balance
          </h2>
          <p className="stat__value" data-testid="billing-balance">
            {show((data) => data.balanceUsd)}
          </p>
          <p className="muted small">Prepaid credit on your account.</p>
        </section>
        <section className="card stat" aria-labelledby="billing-held">
          <h2 id="billing-held" className="stat__label">
            Held
          </h2>
          <p className="stat__value">{show((data) => data.heldUsd)}</p>
          <p className="muted small">Reserved for requests in progress; released as they finish.</p>
        </section>
        <section className="card stat" aria-labelledby="billing-available">
          <h2 id="billing-available" className="stat__label">
            Available
          </h2>
          <p className="stat__value">{show((data) => data.availableUsd)}</p>
          <p className="muted small">What new requests can spend.</p>
        </section>
      </div>
    </>
  );
}
