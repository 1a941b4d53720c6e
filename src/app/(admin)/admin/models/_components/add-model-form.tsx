"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";

const today = () => new Date().toISOString().slice(0, 10);

/** A new model with its list prices (USD per million tokens); channels serve it once given it. */
export function AddModelForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState({
    id: "",
    name: "",
    author: "",
    upstreamModel: "",
    contextLength: "128000",
    maxOutputTokens: "8192",
    input: "",
    output: "",
    description: "",
  });
  const create = useMutation(
    trpc.admin.models.create.mutationOptions({
      onSuccess: (model) => router.push(`/admin/models/${model.id}`),
    }),
  );
  const set = (name: keyof typeof fields) => (value: string) => setFields({ ...fields, [name]: value });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    create.mutate({
      id: fields.id.trim(),
      name: fields.name.trim(),
      description: fields.description.trim(),
      author: fields.author.trim(),
      upstreamModel: fields.upstreamModel.trim(),
      releasedAt: today(),
      contextLength: Number(fields.contextLength),
      maxOutputTokens: Number(fields.maxOutputTokens),
      inputModalities: ["text"],
      outputModalities: ["text"],
      supportedParameters: ["max_tokens", "temperature", "top_p", "stop", "stream"],
      pricing: { input: fields.input.trim(), output: fields.output.trim(), cacheRead: null, cacheWrite: null },
    });
  }

  const fieldErrors = create.error?.data?.zodError?.fieldErrors;
  return (
    <section className="card" aria-labelledby="add-model-heading">
      <div className="card__header-row">
        <h2 id="add-model-heading" className="card__title">
          Add a model
        </h2>
        <button
          type="button"
          className="button button--secondary small"
          onClick={() => setOpen(!open)}
          aria-expanded={open}
        >
          {open ? "Close" : "New model"}
        </button>
      </div>
      {open && (
        <form onSubmit={onSubmit} className="form form--tight" aria-label="New model">
          <div className="field-row">
            <TextField
              id="model-id"
              label="Id (author/model)"
              value={fields.id}
              onChange={set("id")}
              placeholder="acme/widget-1"
              error={fieldErrors?.id?.[0]}
              mono
              required
            />
            <TextField
              id="model-name"
              label="Name"
              value={fields.name}
              onChange={set("name")}
              placeholder="Acme: Widget 1"
              required
            />
            <TextField
              id="model-author"
              label="Author"
              value={fields.author}
              onChange={set("author")}
              placeholder="acme"
              required
            />
            <TextField
              id="model-upstream"
              label="Upstream name"
              value={fields.upstreamModel}
              onChange={set("upstreamModel")}
              placeholder="widget-1"
              mono
              required
            />
          </div>
          <div className="field-row">
            <TextField
              id="model-context"
              label="Context (tokens)"
              value={fields.contextLength}
              onChange={set("contextLength")}
              type="number"
              required
            />
            <TextField
              id="model-max-output"
              label="Max output (tokens)"
              value={fields.maxOutputTokens}
              onChange={set("maxOutputTokens")}
              type="number"
              required
            />
            <TextField
              id="model-input-price"
              label="Input, USD / 1M tokens"
              value={fields.input}
              onChange={set("input")}
              placeholder="0.5"
              required
            />
            <TextField
              id="model-output-price"
              label="Output, USD / 1M tokens"
              value={fields.output}
              onChange={set("output")}
              placeholder="1.5"
              required
            />
          </div>
          <TextField
            id="model-description"
            label="Description"
            value={fields.description}
            onChange={set("description")}
          />
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add model"}
          </button>
          {create.error !== null && <p className="alert alert--error form-message">{formErrorMessage(create.error)}</p>}
        </form>
      )}
    </section>
  );
}
