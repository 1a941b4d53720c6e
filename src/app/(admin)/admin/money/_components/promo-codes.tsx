"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { formErrorMessage } from "~/components/ui/form-error";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";

/** Promo codes: create one, end one now, and see who redeemed each. */
export function PromoCodes() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const codes = useQuery(trpc.admin.promoCodes.list.queryOptions());
  const [code, setCode] = useState("");
  const [amount, setAmount] = useState("");
  const [maxRedemptions, setMaxRedemptions] = useState("");
  const [expires, setExpires] = useState("");
  const [shown, setShown] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.promoCodes.pathKey() });
  const create = useMutation(
    trpc.admin.promoCodes.create.mutationOptions({
      onSuccess: async () => {
        setCode("");
        setAmount("");
        setMaxRedemptions("");
        setExpires("");
        await refresh();
      },
    }),
  );
  const expire = useMutation(trpc.admin.promoCodes.expire.mutationOptions({ onSuccess: refresh }));
  const redemptions = useQuery({
    ...trpc.admin.promoCodes.redemptions.queryOptions({ id: shown ?? "00000000-0000-4000-8000-000000000000" }),
    enabled: shown !== null,
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    create.mutate({
      code,
      amountUsd: amount.trim(),
      maxRedemptions: maxRedemptions.trim() === "" ? null : Number(maxRedemptions),
      // The end of the chosen UTC day.
      expiresAt: expires === "" ? null : new Date(Date.parse(`${expires}T23:59:59Z`)),
    });
  }

  const now = Date.now();
  return (
    <section className="card" aria-labelledby="promo-heading">
      <h2 id="promo-heading" className="card__title">
        Promo codes
      </h2>
      <form onSubmit={onSubmit} className="filter-form" aria-label="New promo code">
        <TextField
          id="promo-code"
          label="Code"
          value={code}
          required
          placeholder="WELCOME-10"
          onChange={setCode}
          mono
        />
        <TextField
          id="promo-amount"
          label="Amount (USD)"
          inputMode="decimal"
          value={amount}
          required
          placeholder="10"
          onChange={setAmount}
        />
        <TextField
          id="promo-max"
          label="Max redemptions"
          type="number"
          min={1}
          value={maxRedemptions}
          placeholder="no limit"
          onChange={setMaxRedemptions}
        />
        <TextField id="promo-expires" label="Expires (UTC day)" type="date" value={expires} onChange={setExpires} />
        <div className="filter-form__buttons">
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            Create code
          </button>
        </div>
      </form>
      {create.error !== null && <p className="alert alert--error form-message">{formErrorMessage(create.error)}</p>}
      {expire.error !== null && <p className="alert alert--error form-message">{formErrorMessage(expire.error)}</p>}
      {codes.isPending ? (
        <p className="muted form-message">Loading…</p>
      ) : codes.isError ? (
        <p className="alert alert--error">{formErrorMessage(codes.error)}</p>
      ) : codes.data.length === 0 ? (
        <p className="muted form-message">No promo code yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--stack" data-testid="promo-codes">
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col" className="table__number">
                  Amount
                </th>
                <th scope="col" className="table__number">
                  Redeemed
                </th>
                <th scope="col">Expires (UTC)</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {codes.data.map((promo) => {
                const expired = promo.expiresAt !== null && promo.expiresAt.getTime() <= now;
                return (
                  <tr key={promo.id} className={expired ? "table__row--muted" : undefined}>
                    <td data-label="Code" className="key-prefix">
                      {promo.code}
                    </td>
                    <td data-label="Amount" className="table__number">
                      {formatUsd(promo.amountUsd)}
                    </td>
                    <td data-label="Redeemed" className="table__number">
                      {promo.redemptionCount}
                      {promo.maxRedemptions !== null && ` of ${promo.maxRedemptions}`}
                    </td>
                    <td data-label="Expires (UTC)">
                      {promo.expiresAt === null ? "never" : formatDateTime(promo.expiresAt)}
                      {expired && <span className="muted small"> · expired</span>}
                    </td>
                    <td data-label="Actions" className="table__actions">
                      <button
                        type="button"
                        className="button button--ghost small"
                        onClick={() => setShown(shown === promo.id ? null : promo.id)}
                        aria-expanded={shown === promo.id}
                      >
                        Redemptions
                      </button>
                      {!expired && (
                        <button
                          type="button"
                          className="button button--danger small"
                          disabled={expire.isPending}
                          onClick={() => expire.mutate({ id: promo.id })}
                        >
                          Expire now
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {shown !== null && (
        <div className="form-message" data-testid="promo-redemptions">
          <h3 className="endpoint-card__title">
            Redemptions of {codes.data?.find((promo) => promo.id === shown)?.code}
          </h3>
          {redemptions.isPending ? (
            <p className="muted small">Loading…</p>
          ) : redemptions.data === undefined || redemptions.data.length === 0 ? (
            <p className="muted small">Nobody has redeemed it yet.</p>
          ) : (
            <ul className="plain-list">
              {redemptions.data.map((redemption) => (
                <li key={redemption.userId}>
                  <Link href={`/admin/users/${redemption.userId}`}>{redemption.email}</Link> ·{" "}
                  {formatDateTime(redemption.redeemedAt)} UTC
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
