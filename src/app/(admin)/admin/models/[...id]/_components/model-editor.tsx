"use client";

import { useMutation, useQueryClient, useSuspenseQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formErrorMessage } from "~/components/ui/form-error";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";

/** A model's name, description, limits and parameters, and whether it is offered at all. */
export function ModelEditor({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { data } = useSuspenseQuery(trpc.admin.models.get.queryOptions({ id }));
  const { model } = data;
  const [name, setName] = useState(model.name);
  const [description, setDescription] = useState(model.description);
  const [contextLength, setContextLength] = useState(String(model.contextLength));
  const [maxOutputTokens, setMaxOutputTokens] = useState(String(model.maxOutputTokens));
  const [parameters, setParameters] = useState(model.supportedParameters.join(", "));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.models.pathKey() });
  const update = useMutation(trpc.admin.models.update.mutationOptions({ onSuccess: refresh }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    update.mutate({
      id,
      patch: {
        name: name.trim(),
        description: description.trim(),
        contextLength: Number(contextLength),
        maxOutputTokens: Number(maxOutputTokens),
        supportedParameters: parameters
          .split(",")
          .map((parameter) => parameter.trim())
          .filter((parameter) => parameter !== ""),
      },
    });
  }

  return (
    <section className="card" aria-labelledby="model-heading">
      <div className="card__header-row">
        <h2 id="model-heading" className="card__title">
          Model
        </h2>
        <span className="badge-row">
          <span className={`badge ${model.enabled ? "badge--active" : "badge--revoked"}`}>
            {model.enabled ? "Enabled" : "Disabled"}
          </span>
          <button
            type="button"
            className={`button small ${model.enabled ? "button--danger" : "button--primary"}`}
            disabled={update.isPending}
            onClick={() => update.mutate({ id, patch: { enabled: !model.enabled } })}
          >
            {model.enabled ? "Disable model" : "Enable model"}
          </button>
        </span>
      </div>
      <form onSubmit={onSubmit} className="form form--tight" aria-label="Model details">
        <div className="field-row">
          <TextField id="model-name" label="Name" value={name} required onChange={setName} />
          <TextField
            id="model-context"
            label="Context (tokens)"
            type="number"
            min={1}
            value={contextLength}
            required
            onChange={setContextLength}
          />
          <TextField
            id="model-max-output"
            label="Max output (tokens)"
            type="number"
            min={1}
            value={maxOutputTokens}
            required
            onChange={setMaxOutputTokens}
          />
        </div>
        <label className="field" htmlFor="model-description">
          <span className="field__label">Description</span>
          <textarea
            id="model-description"
            className="input"
            rows={2}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
          />
        </label>
        <TextField
          id="model-parameters"
          label="Supported parameters (comma-separated)"
          value={parameters}
          onChange={setParameters}
          mono
        />
        <button type="submit" className="button button--secondary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save model"}
        </button>
      </form>
      {update.error !== null && <p className="alert alert--error form-message">{formErrorMessage(update.error)}</p>}
      {update.isSuccess && (
        <p className="alert alert--success form-message" role="status">
          Saved; every gateway serves the change from the next call.
        </p>
      )}
    </section>
  );
}
