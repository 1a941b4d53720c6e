"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatDateTime } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

/** "When my balance falls below X, add Y" with the card saved at a Checkout top-up; hidden without Stripe. */
export function AutoTopUpCard() {
  const trpc = useTRPC();
  const settings = useQuery(trpc.billing.autoTopUp.queryOptions());
  if (settings.data === undefined || !settings.data.configured) return null;
  // Keyed by what was loaded, so the form starts from the saved values and again after each save.
  const { enabled, thresholdUsd, amountUsd } = settings.data;
  return <AutoTopUpForm key={`${enabled}:${thresholdUsd}:${amountUsd}`} settings={settings.data} />;
}

interface Settings {
  enabled: boolean;
  thresholdUsd: string | null;
  amountUsd: string | null;
  hasSavedCard: boolean;
  lastAttemptAt: Date | null;
  lastStatus: string | null;
  lastError: string | null;
}

function AutoTopUpForm({ settings }: { settings: Settings }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [enabled, setEnabled] = useState(settings.enabled);
  const [threshold, setThreshold] = useState(settings.thresholdUsd ?? "5");
  const [amount, setAmount] = useState(settings.amountUsd ?? "25");
  const save = useMutation(
    trpc.billing.saveAutoTopUp.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.billing.autoTopUp.queryKey() });
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    save.mutate({ enabled, thresholdUsd: threshold.trim(), amountUsd: amount.trim() });
  }

  return (
    <section className="card" aria-labelledby="auto-top-up-heading">
      <h2 id="auto-top-up-heading" className="card__title">
        Auto top-up
      </h2>
      <p className="muted small">
        {settings.hasSavedCard
          ? "Charges your saved card when your balance runs low."
          : "Needs a saved card: top up once with “Save the card for auto top-up” ticked."}
      </p>
      <form onSubmit={onSubmit} className="form form--tight">
        <label className="checkbox">
          <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
          Enable auto top-up
        </label>
        <div className="field-row">
          <label className="field">
            <span className="field__label">When the balance falls below (USD)</span>
            <input
              className="input"
              inputMode="decimal"
              value={threshold}
              onChange={(event) => setThreshold(event.target.value)}
              required
            />
          </label>
          <label className="field">
            <span className="field__label">Add (USD)</span>
            <input
              className="input"
              inputMode="decimal"
              value={amount}
              onChange={(event) => setAmount(event.target.value)}
              required
            />
          </label>
        </div>
        {save.error !== null && (
          <p className="alert alert--error" role="alert">
            {save.error.message}
          </p>
        )}
        {save.isSuccess && (
          <p className="alert alert--success" role="status">
            Saved.
          </p>
        )}
        <button type="submit" className="button button--secondary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save"}
        </button>
      </form>
      {settings.lastStatus !== null && (
        <p className="muted small table-note">
          Last attempt{settings.lastAttemptAt !== null && ` ${formatDateTime(settings.lastAttemptAt)} UTC`}:{" "}
          {settings.lastStatus}
          {settings.lastError !== null && ` (${settings.lastError})`}
        </p>
      )}
    </section>
  );
}
