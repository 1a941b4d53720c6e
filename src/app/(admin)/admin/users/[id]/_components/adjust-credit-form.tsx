"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

/**
 * Credit or debit with a required note, through the ledger. The request id is made once per filled-in form, so a
 * double click or a resubmitted form posts once; the next adjustment gets a new one.
 */
export function AdjustCreditForm({ userId }: { userId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [direction, setDirection] = useState<"credit" | "debit">("credit");
  const [amount, setAmount] = useState("");
  const [note, setNote] = useState("");
  // One id per filled-in form: a double click or a resubmission after a lost answer posts once; any edit is a new
  // adjustment with a new id.
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const edited =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setRequestId(crypto.randomUUID());
    };
  const adjust = useMutation(
    trpc.admin.credits.adjust.mutationOptions({
      onSuccess: async () => {
        setAmount("");
        setNote("");
        setRequestId(crypto.randomUUID());
        await queryClient.invalidateQueries({ queryKey: trpc.admin.users.history.pathKey() });
        router.refresh();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (adjust.isPending) return;
    adjust.mutate({ userId, amountUsd: direction === "debit" ? `-${amount.trim()}` : amount.trim(), note, requestId });
  }

  const fieldErrors = adjust.error?.data?.zodError?.fieldErrors;
  return (
    <section className="card" aria-labelledby="adjust-heading">
      <h2 id="adjust-heading" className="card__title">
        Credit or debit
      </h2>
      <form onSubmit={onSubmit} className="form form--tight">
        <div className="field-row">
          <label className="field" htmlFor="adjust-direction">
            <span className="field__label">Direction</span>
            <select
              id="adjust-direction"
              className="input"
              value={direction}
              onChange={(event) => edited(setDirection)(event.target.value as "credit" | "debit")}
            >
              <option value="credit">Credit (add)</option>
              <option value="debit">Debit (take)</option>
            </select>
          </label>
          <label className="field" htmlFor="adjust-amount">
            <span className="field__label">Amount (USD)</span>
            <input
              id="adjust-amount"
              className="input"
              inputMode="decimal"
              placeholder="10.00"
              pattern="\d+(\.\d{1,9})?"
              title="A USD amount with at most 9 decimals"
              value={amount}
              onChange={(event) => edited(setAmount)(event.target.value)}
              required
            />
          </label>
        </div>
        <label className="field" htmlFor="adjust-note">
          <span className="field__label">Note (the customer sees it on their Billing page)</span>
          <input
            id="adjust-note"
            className="input"
            placeholder="Goodwill credit for the outage on 3 Dec"
            value={note}
            onChange={(event) => edited(setNote)(event.target.value)}
            maxLength={500}
            required
          />
          {fieldErrors?.note && <span className="field__error">{fieldErrors.note[0]}</span>}
        </label>
        <button type="submit" className="button button--primary" disabled={adjust.isPending}>
          {adjust.isPending ? "Posting…" : direction === "credit" ? "Add credit" : "Debit"}
        </button>
      </form>
      {adjust.error !== null && <p className="alert alert--error form-message">{formErrorMessage(adjust.error)}</p>}
      {adjust.data !== undefined && (
        <p className="alert alert--success form-message" role="status">
          {adjust.data.posted ? "Posted" : "Already posted"} {formatUsd(adjust.data.amountUsd)}. Balance now{" "}
          {formatUsd(adjust.data.balanceUsd)}.
        </p>
      )}
    </section>
  );
}
