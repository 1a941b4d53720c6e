"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { formErrorMessage } from "~/components/ui/form-error";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

/** Runs `billing reconcile` and shows its verdict: every balance equal to its ledger and holds, or which are not. */
export function ReconcileCard() {
  const trpc = useTRPC();
  const reconcile = useMutation(trpc.admin.money.reconcile.mutationOptions());
  const result = reconcile.data;
  return (
    <section className="card" aria-labelledby="reconcile-heading">
      <div className="card__header-row">
        <h2 id="reconcile-heading" className="card__title">
          Reconcile
        </h2>
        <button
          type="button"
          className="button button--secondary small"
          disabled={reconcile.isPending}
          onClick={() => reconcile.mutate()}
        >
          {reconcile.isPending ? "Checking…" : "Check every balance"}
        </button>
      </div>
      <p className="muted small">
        Checks, in one snapshot, that each account&apos;s balance equals the sum of its ledger and its running balance,
        and that what it holds for calls in flight equals its open holds. Changes nothing.
      </p>
      {reconcile.error !== null && (
        <p className="alert alert--error form-message">{formErrorMessage(reconcile.error)}</p>
      )}
      {result !== undefined &&
        (result.mismatches.length === 0 ? (
          <p className="alert alert--success form-message" role="status" data-testid="reconcile-result">
            All {result.accounts} accounts agree with their {result.entries} ledger entries (
            {formatDateTime(result.checkedAt)} UTC).
          </p>
        ) : (
          <div className="alert alert--error form-message" role="status" data-testid="reconcile-result">
            <p>
              {result.mismatches.length} of {result.accounts} accounts disagree with their ledger:
            </p>
            <ul className="plain-list">
              {result.mismatches.map((mismatch) => (
                <li key={mismatch.userId}>
                  <Link href={`/admin/users/${mismatch.userId}`}>{mismatch.email}</Link>: balance{" "}
                  {formatUsd(mismatch.balanceUsd)}, ledger {formatUsd(mismatch.ledgerUsd)}, held{" "}
                  {formatUsd(mismatch.heldUsd)} against open holds {formatUsd(mismatch.holdsUsd)}
                </li>
              ))}
            </ul>
          </div>
        ))}
    </section>
  );
}
