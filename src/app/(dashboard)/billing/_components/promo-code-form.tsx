"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

export function PromoCodeForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const redeem = useMutation(
    trpc.billing.redeemPromo.mutationOptions({
      onSuccess: async () => {
        setCode("");
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.billing.overview.queryKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.billing.ledger.pathKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.account.balance.queryKey() }),
        ]);
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    redeem.mutate({ code });
  }

  return (
    <section className="card" aria-labelledby="promo-heading">
      <h2 id="promo-heading" className="card__title">
        Redeem a promo code
      </h2>
      <form onSubmit={onSubmit} className="inline-form">
        <label className="field inline-form__grow">
          <span className="field__label">Code</span>
          <input
            name="code"
            className="input input--mono"
            placeholder="e.g. WELCOME-10"
            autoCapitalize="characters"
            value={code}
            onChange={(event) => setCode(event.target.value)}
            required
            maxLength={64}
          />
        </label>
        <button type="submit" className="button button--secondary" disabled={redeem.isPending}>
          {redeem.isPending ? "Redeeming…" : "Redeem"}
        </button>
      </form>
      {redeem.error !== null && (
        <p className="alert alert--error form-message" role="alert">
          {redeem.error.message}
        </p>
      )}
      {redeem.data !== undefined && (
        <p className="alert alert--success form-message" role="status">
          {redeem.data.code}: {formatUsd(redeem.data.amountUsd)} added. Balance: {formatUsd(redeem.data.balanceUsd)}.
        </p>
      )}
    </section>
  );
}
