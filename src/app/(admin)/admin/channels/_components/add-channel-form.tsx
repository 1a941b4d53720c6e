"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";

const KINDS = [
  ["openai-compatible", "OpenAI-compatible"],
  ["openai", "OpenAI"],
  ["anthropic", "Anthropic"],
  ["gemini", "Google Gemini"],
] as const;
type Kind = (typeof KINDS)[number][0];

/**
 * Adds a channel. Without a model list it serves its provider's catalog models; with one, exactly those (as
 * `model id` or `model id=upstream name`, one per line or comma-separated).
 */
export function AddChannelForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<Kind>("openai-compatible");
  const [name, setName] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [provider, setProvider] = useState("");
  const [models, setModels] = useState("");
  const create = useMutation(
    trpc.admin.channels.create.mutationOptions({
      onSuccess: async () => {
        setName("");
        setBaseUrl("");
        setApiKey("");
        setProvider("");
        setModels("");
        await queryClient.invalidateQueries({ queryKey: trpc.admin.channels.pathKey() });
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const mappings = models
      .split(/[\n,]/)
      .map((line) => line.trim())
      .filter((line) => line !== "")
      .map((line) => {
        const [modelId = "", upstreamModel] = line.split("=").map((part) => part.trim());
        return upstreamModel ? { modelId, upstreamModel } : { modelId };
      });
    create.mutate({
      kind,
      name,
      baseUrl,
      ...(apiKey.trim() === "" ? {} : { apiKey }),
      ...(provider.trim() === "" ? {} : { provider }),
      ...(mappings.length === 0 ? {} : { models: mappings }),
    });
  }

  return (
    <section className="card" aria-labelledby="add-channel-heading">
      <div className="card__header-row">
        <h2 id="add-channel-heading" className="card__title">
          Add a channel
        </h2>
        <button
          type="button"
          className="button button--secondary small"
          onClick={() => setOpen(!open)}
          aria-expanded={open}
        >
          {open ? "Close" : "New channel"}
        </button>
      </div>
      {open && (
        <form onSubmit={onSubmit} className="form form--tight" aria-label="New channel">
          <div className="field-row">
            <label className="field" htmlFor="channel-kind">
              <span className="field__label">Kind</span>
              <select
                id="channel-kind"
                className="input"
                value={kind}
                onChange={(event) => setKind(event.target.value as Kind)}
              >
                {KINDS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <TextField
              id="channel-name"
              label="Name"
              value={name}
              required
              maxLength={200}
              placeholder="deepseek-main"
              onChange={setName}
            />
            <TextField
              id="channel-provider"
              label="Provider slug"
              value={provider}
              placeholder="from the kind"
              onChange={setProvider}
            />
          </div>
          <TextField
            id="channel-base-url"
            label="Base URL"
            value={baseUrl}
            required
            placeholder="https://api.deepseek.com/v1"
            onChange={setBaseUrl}
            mono
          />
          <TextField
            id="channel-key"
            label="Upstream key (stored encrypted, never shown again)"
            type="password"
            autoComplete="off"
            value={apiKey}
            onChange={setApiKey}
            mono
          />
          <label className="field" htmlFor="channel-models">
            <span className="field__label">Models (optional: model id, or model id=upstream name; one per line)</span>
            <textarea
              id="channel-models"
              className="input input--mono"
              rows={3}
              value={models}
              onChange={(event) => setModels(event.target.value)}
              placeholder="deepseek/deepseek-chat=deepseek-chat"
            />
          </label>
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add channel"}
          </button>
          {create.error !== null && <p className="alert alert--error form-message">{formErrorMessage(create.error)}</p>}
        </form>
      )}
      {create.data !== undefined && !create.isPending && (
        <p className="alert alert--success form-message" role="status">
          Added {create.data.name}, serving {create.data.endpointCount} model
          {create.data.endpointCount === 1 ? "" : "s"}.
        </p>
      )}
    </section>
  );
}
