"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

/** Buy credit with Stripe Checkout. Nothing is credited here: the balance changes when Stripe's webhook confirms. */
export function TopUpCard() {
  const trpc = useTRPC();
  const options = useQuery(trpc.billing.topUpOptions.queryOptions());
  const [amount, setAmount] = useState("");
  const [saveCard, setSaveCard] = useState(false);
  const createTopUp = useMutation(
    trpc.billing.createTopUp.mutationOptions({
      onSuccess: ({ url }) => {
        window.location.assign(url);
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    createTopUp.mutate({ amountUsd: amount.trim(), saveCard });
  }

  return (
    <section className="card" aria-labelledby="top-up-heading">
      <h2 id="top-up-heading" className="card__title">
        Add credit
      </h2>
      {options.isPending ? (
        <p className="muted">Loading…</p>
      ) : options.isError ? (
        <p className="alert alert--error">Could not load the top-up options.</p>
      ) : !options.data.configured ? (
        <p className="muted">Top-ups are not configured on this server.</p>
      ) : (
        <form onSubmit={onSubmit} className="form form--tight">
          <div className="preset-row" role="group" aria-label="Preset amounts">
            {options.data.presets.map((preset) => (
              <button
                key={preset}
                type="button"
                className={`button small ${amount === preset ? "button--primary" : "button--secondary"}`}
                aria-pressed={amount === preset}
                onClick={() => setAmount(preset)}
              >
                {formatUsd(preset)}
              </button>
            ))}
          </div>
          <label className="field">
            <span className="field__label">Amount (USD)</span>
            <input
              name="amount"
              className="input"
              inputMode="decimal"
              placeholder="e.g. 25"
              value={amount}
              onChange={(event) => setAmount(event.target.value)}
              pattern="\d+(\.\d{1,2})?"
              required
            />
            <span className="field__hint">
              From {formatUsd(options.data.min)} to {formatUsd(options.data.max)}, in whole cents.
            </span>
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={saveCard} onChange={(event) => setSaveCard(event.target.checked)} />
            Save the card for auto top-up
          </label>
          {createTopUp.error !== null && (
            <p className="alert alert--error" role="alert">
              {createTopUp.error.data?.zodError?.fieldErrors.amountUsd?.[0] ?? createTopUp.error.message}
            </p>
          )}
          <button type="submit" className="button button--primary" disabled={createTopUp.isPending}>
            {createTopUp.isPending || createTopUp.isSuccess ? "Opening Stripe…" : "Continue to payment"}
          </button>
        </form>
      )}
    </section>
  );
}
