"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { CopyButton } from "~/components/ui/copy-button";
import { useTRPC } from "~/trpc/react";

export function CreateKeyForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.keys.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        await queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
      },
    }),
  );
  const created = create.data;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    create.mutate({ name });
  }

  return (
    <section className="card" aria-labelledby="create-key-heading">
      <h2 id="create-key-heading" className="card__title">
        Create a key
      </h2>
      <form onSubmit={onSubmit} className="inline-form">
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
      </form>
      {create.error !== null && (
        <p className="alert alert--error" role="alert">
          {create.error.data?.zodError?.fieldErrors.name?.[0] ?? "Could not create the key. Please try again."}
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
