"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";

/** Disable with a reason the customer is shown at sign-in, or enable again. */
export function DisableAccountForm({ userId, disabled }: { userId: string; disabled: boolean }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [reason, setReason] = useState("");
  const setDisabled = useMutation(
    trpc.admin.users.setDisabled.mutationOptions({
      onSuccess: () => {
        setReason("");
        router.refresh();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setDisabled.mutate({ userId, disabled: !disabled, reason: disabled ? null : reason });
  }

  return (
    <section className="card" aria-labelledby="status-heading">
      <h2 id="status-heading" className="card__title">
        {disabled ? "Account disabled" : "Disable the account"}
      </h2>
      <form onSubmit={onSubmit} className="form form--tight">
        {disabled ? (
          <p className="muted small">Enabling restores its keys and sign-in as they were.</p>
        ) : (
          <TextField
            id="disable-reason"
            label="Reason (shown to the customer when sign-in is refused)"
            placeholder="Unpaid dispute; contact support@…"
            value={reason}
            maxLength={500}
            required
            onChange={setReason}
          />
        )}
        <button
          type="submit"
          className={disabled ? "button button--primary" : "button button--danger"}
          disabled={setDisabled.isPending}
        >
          {disabled ? "Enable account" : "Disable account"}
        </button>
      </form>
      {setDisabled.error !== null && (
        <p className="alert alert--error form-message">{formErrorMessage(setDisabled.error)}</p>
      )}
    </section>
  );
}
