"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { CopyButton } from "~/components/ui/copy-button";
import { useTRPC } from "~/trpc/react";
import { KeyLimitFields } from "./key-limit-fields";
import { expiryFromDateInput, firstFieldError, rateFromInput, resetFromSelect } from "./key-limits";
import { ModelAllowlistField } from "./model-allowlist-field";
import { NO_RATE_LIMIT_INPUTS, RateLimitFields, type RateLimitInputs } from "./rate-limit-fields";

export function CreateKeyForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [limitUsd, setLimitUsd] = useState("");
  const [reset, setReset] = useState("");
  const [expires, setExpires] = useState("");
  const [models, setModels] = useState<string[]>([]);
  const [rates, setRates] = useState<RateLimitInputs>(NO_RATE_LIMIT_INPUTS);
  const [moreOpen, setMoreOpen] = useState(false);
  const create = useMutation(
    trpc.keys.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        setLimitUsd("");
        setReset("");
        setExpires("");
        setModels([]);
        setRates(NO_RATE_LIMIT_INPUTS);
        await queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
      },
    }),
  );
  const created = create.data;
  const fieldErrors = create.error?.data?.zodError?.fieldErrors;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const limit = limitUsd.trim();
    create.mutate({
      name,
      // Sent as the decimal string typed, so the server stores it to the nano-dollar.
      limitUsd: limit === "" ? null : limit,
      limitReset: limit === "" ? null : resetFromSelect(reset),
      expiresAt: expiryFromDateInput(expires),
      allowedModels: models.length === 0 ? null : models,
      requestsPerMinute: rateFromInput(rates.requestsPerMinute),
      tokensPerMinute: rateFromInput(rates.tokensPerMinute),
      concurrentRequests: rateFromInput(rates.concurrentRequests),
    });
  }

  return (
    <section className="card" aria-labelledby="create-key-heading">
      <h2 id="create-key-heading" className="card__title">
        Create a key
      </h2>
      <form onSubmit={onSubmit} className="form form--tight">
        <div className="inline-form">
          <label className="field inline-form__grow">
            <span className="field__label">Name</span>
            <input
              name="name"
              className="input"
              placeholder="e.g. production, laptop"
              value={name}
              onChange={(event) => setName(event.target.value)}
              required
              maxLength={64}
            />
          </label>
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create key"}
          </button>
        </div>
        <KeyLimitFields
          limitUsd={limitUsd}
          setLimitUsd={setLimitUsd}
          reset={reset}
          setReset={setReset}
          expires={expires}
          setExpires={setExpires}
          names={{ limitUsd: "limitUsd", limitReset: "limitReset", expiresAt: "expiresAt" }}
        />
        <p className="field__hint">Periods are in UTC; weeks start on Monday. Leave blank for no limit or expiry.</p>
        <details className="key-more" open={moreOpen} onToggle={(event) => setMoreOpen(event.currentTarget.open)}>
          <summary>Models and rate limits</summary>
          <div className="key-more__body">
            <ModelAllowlistField selected={models} onChange={setModels} />
            <RateLimitFields values={rates} onChange={setRates} named />
            <p className="field__hint">Blank rate limits take the gateway&apos;s default.</p>
          </div>
        </details>
      </form>
      {create.error !== null && (
        <p className="alert alert--error form-message" role="alert">
          {firstFieldError(fieldErrors) ??
            (fieldErrors === undefined ? create.error.message : "Could not create the key. Please try again.")}
        </p>
      )}
      {created !== undefined && (
        <div className="new-key" role="status">
          <p className="new-key__title">
            Key <strong>{created.name}</strong> created. Copy it now: it is shown only once and cannot be recovered.
          </p>
          <div className="new-key__row">
            <input
              className="input input--mono"
              readOnly
              value={created.plaintext}
              aria-label="New API key"
              data-testid="new-key"
              onFocus={(event) => event.currentTarget.select()}
            />
            <CopyButton text={created.plaintext} />
          </div>
          <button type="button" className="button button--ghost small" onClick={() => create.reset()}>
            I have copied it
          </button>
        </div>
      )}
    </section>
  );
}
