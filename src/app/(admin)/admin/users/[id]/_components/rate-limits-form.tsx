"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";

interface Limits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentRequests: number | null;
}

const FIELDS = [
  ["requestsPerMinute", "Requests / minute"],
  ["tokensPerMinute", "Tokens / minute"],
  ["concurrentRequests", "Concurrent requests"],
] as const;

/** The account's own limits across all its keys; an empty field takes the configured default. */
export function RateLimitsForm({ userId, limits }: { userId: string; limits: Limits }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [values, setValues] = useState(() =>
    Object.fromEntries(FIELDS.map(([name]) => [name, limits[name]?.toString() ?? ""])),
  );
  const save = useMutation(trpc.admin.users.setRateLimits.mutationOptions({ onSuccess: () => router.refresh() }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const limit = (name: keyof Limits) => (values[name]?.trim() ? Number(values[name]) : null);
    save.mutate({
      userId,
      requestsPerMinute: limit("requestsPerMinute"),
      tokensPerMinute: limit("tokensPerMinute"),
      concurrentRequests: limit("concurrentRequests"),
    });
  }

  return (
    <section className="card" aria-labelledby="limits-heading">
      <h2 id="limits-heading" className="card__title">
        Account rate limits
      </h2>
      <form onSubmit={onSubmit} className="form form--tight">
        <div className="field-row field-row--three">
          {FIELDS.map(([name, label]) => (
            <label key={name} className="field" htmlFor={`limit-${name}`}>
              <span className="field__label">{label}</span>
              <input
                id={`limit-${name}`}
                className="input"
                type="number"
                min={1}
                placeholder="default"
                value={values[name]}
                onChange={(event) => setValues({ ...values, [name]: event.target.value })}
              />
            </label>
          ))}
        </div>
        <button type="submit" className="button button--secondary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save limits"}
        </button>
      </form>
      {save.error !== null && <p className="alert alert--error form-message">{formErrorMessage(save.error)}</p>}
      {save.isSuccess && (
        <p className="alert alert--success form-message" role="status">
          Saved; every gateway applies them from the next call.
        </p>
      )}
    </section>
  );
}
