"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "~/trpc/react";

/**
 * The models a key may call, picked from those the gateway routes: none chosen allows every model. A model already on
 * the list that the gateway no longer offers stays listed (by id) until removed.
 */
export function ModelAllowlistField({
  selected,
  onChange,
}: {
  selected: readonly string[];
  onChange: (models: string[]) => void;
}) {
  const trpc = useTRPC();
  const models = useQuery(trpc.keys.models.queryOptions());
  const [choice, setChoice] = useState("");
  const available = (models.data ?? []).filter((model) => !selected.includes(model.id));

  function add() {
    if (choice === "" || selected.includes(choice)) return;
    onChange([...selected, choice]);
    setChoice("");
  }

  return (
    <fieldset className="model-allowlist">
      <legend className="field__label">Models</legend>
      {selected.length === 0 ? (
        <p className="field__hint model-allowlist__all">Every model. Add models to allow only those.</p>
      ) : (
        <ul className="chip-list" aria-label="Allowed models">
          {selected.map((id) => (
            <li key={id} className="chip">
              <span className="chip__text">{id}</span>
              <button
                type="button"
                className="chip__remove"
                aria-label={`Remove ${id}`}
                onClick={() => onChange(selected.filter((model) => model !== id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="inline-form model-allowlist__add">
        <select
          className="input inline-form__grow"
          aria-label="Add a model"
          value={choice}
          onChange={(event) => setChoice(event.target.value)}
          disabled={available.length === 0}
        >
          <option value="">
            {models.isPending ? "Loading models…" : available.length === 0 ? "No more models" : "Choose a model…"}
          </option>
          {available.map((model) => (
            <option key={model.id} value={model.id}>
              {model.name === model.id ? model.id : `${model.name} (${model.id})`}
            </option>
          ))}
        </select>
        <button type="button" className="button button--secondary small" disabled={choice === ""} onClick={add}>
          Add
        </button>
      </div>
    </fieldset>
  );
}
