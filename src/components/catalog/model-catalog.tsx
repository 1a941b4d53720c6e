"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import { formatTokenCount, formatUsd } from "~/components/ui/format";
import { SelectField } from "~/components/ui/select-field";
import type { CatalogEntry } from "./catalog-entry";
import {
  applyCatalogFilters,
  NO_FILTERS,
  queryFromFilters,
  type CatalogFilters,
  type CatalogSort,
} from "./catalog-filters";

const CONTEXT_CHOICES = [
  { value: 0, label: "Any context" },
  { value: 32_000, label: "32K tokens or more" },
  { value: 128_000, label: "128K tokens or more" },
  { value: 200_000, label: "200K tokens or more" },
  { value: 1_000_000, label: "1M tokens or more" },
];

const SORT_CHOICES: { value: CatalogSort; label: string }[] = [
  { value: "name", label: "Name" },
  { value: "price-asc", label: "Price: lowest first" },
  { value: "price-desc", label: "Price: highest first" },
  { value: "context-desc", label: "Context: largest first" },
  { value: "newest", label: "Newest first" },
];

const MODALITY_LABELS: Record<string, string> = { text: "Text", image: "Images", file: "Files", audio: "Audio" };

/** A labelled drop-down of the filter bar. */
/** The whole catalog arrives with the page (it is small); searching and filtering happen in the browser. */
export function ModelCatalog({ entries, initialFilters }: { entries: CatalogEntry[]; initialFilters: CatalogFilters }) {
  const [filters, setFilters] = useState(initialFilters);
  const providers = useMemo(() => [...new Set(entries.flatMap((entry) => entry.providers))].sort(), [entries]);
  const modalities = useMemo(() => [...new Set(entries.flatMap((entry) => entry.inputModalities))].sort(), [entries]);
  const shown = useMemo(() => applyCatalogFilters(entries, filters), [entries, filters]);

  function update(change: Partial<CatalogFilters>): void {
    const next = { ...filters, ...change };
    setFilters(next);
    // The filters live in the URL too, so a filtered view can be bookmarked or shared; no navigation, no history spam.
    const query = queryFromFilters(next).toString();
    window.history.replaceState(null, "", query === "" ? window.location.pathname : `?${query}`);
  }

  return (
    <div className="catalog">
      <form className="catalog-filters card" role="search" onSubmit={(event) => event.preventDefault()}>
        <div className="field catalog-filters__search">
          <label className="field__label" htmlFor="catalog-search">
            Search
          </label>
          <input
            id="catalog-search"
            className="input"
            type="search"
            placeholder="Name, id or provider"
            value={filters.search}
            onChange={(event) => update({ search: event.target.value })}
          />
        </div>
        <SelectField
          id="catalog-provider"
          label="Provider"
          value={filters.provider}
          choices={[
            { value: "", label: "All providers" },
            ...providers.map((provider) => ({ value: provider, label: provider })),
          ]}
          onChange={(provider) => update({ provider })}
        />
        <SelectField
          id="catalog-modality"
          label="Input"
          value={filters.modality}
          choices={[
            { value: "", label: "Any input" },
            ...modalities.map((modality) => ({ value: modality, label: MODALITY_LABELS[modality] ?? modality })),
          ]}
          onChange={(modality) => update({ modality })}
        />
        <div className="field">
          <label className="field__label" htmlFor="catalog-max-price">
            Max input price ($ / 1M tokens)
          </label>
          <input
            id="catalog-max-price"
            className="input"
            type="number"
            min="0"
            step="any"
            inputMode="decimal"
            placeholder="Any"
            value={filters.maxInputPrice ?? ""}
            onChange={(event) => {
              const value = event.target.value;
              update({ maxInputPrice: value === "" || Number(value) < 0 ? null : Number(value) });
            }}
          />
        </div>
        <SelectField
          id="catalog-context"
          label="Context"
          value={String(filters.minContext)}
          choices={CONTEXT_CHOICES.map((choice) => ({ value: String(choice.value), label: choice.label }))}
          onChange={(minContext) => update({ minContext: Number(minContext) })}
        />
        <SelectField
          id="catalog-sort"
          label="Sort by"
          value={filters.sort}
          choices={SORT_CHOICES}
          onChange={(sort) => update({ sort: sort as CatalogSort })}
        />
        <fieldset className="catalog-filters__features">
          <legend className="field__label">Supports</legend>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={filters.tools}
              onChange={(event) => update({ tools: event.target.checked })}
            />
            Tools
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={filters.structuredOutputs}
              onChange={(event) => update({ structuredOutputs: event.target.checked })}
            />
            Structured outputs
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={filters.reasoning}
              onChange={(event) => update({ reasoning: event.target.checked })}
            />
            Reasoning
          </label>
        </fieldset>
      </form>

      <p className="muted small catalog-count" aria-live="polite">
        {shown.length === entries.length
          ? `${entries.length} ${entries.length === 1 ? "model" : "models"}`
          : `${shown.length} of ${entries.length} models`}
      </p>

      {shown.length === 0 ? (
        <div className="card catalog-empty">
          <p>
            {entries.length === 0
              ? "No models are available yet: an operator has not connected any provider."
              : "No model matches these filters."}
          </p>
          {entries.length > 0 && (
            <button type="button" className="button button--secondary" onClick={() => update(NO_FILTERS)}>
              Clear filters
            </button>
          )}
        </div>
      ) : (
        <ul className="catalog-list">
          {shown.map((entry) => (
            <li key={entry.id} className="card catalog-item">
              <div className="catalog-item__head">
                <h2 className="catalog-item__name">
                  <Link href={`/models/${entry.id}`}>{entry.name}</Link>
                </h2>
                <code className="catalog-item__id">{entry.id}</code>
              </div>
              {entry.description !== "" && <p className="catalog-item__description muted">{entry.description}</p>}
              <dl className="catalog-item__facts">
                <div>
                  <dt>Input</dt>
                  <dd>{formatUsd(entry.inputPerMillion)} / 1M</dd>
                </div>
                <div>
                  <dt>Output</dt>
                  <dd>{formatUsd(entry.outputPerMillion)} / 1M</dd>
                </div>
                <div>
                  <dt>Context</dt>
                  <dd>{formatTokenCount(entry.contextLength)}</dd>
                </div>
                <div>
                  <dt>Providers</dt>
                  <dd>{entry.providers.join(", ")}</dd>
                </div>
              </dl>
              <ul className="chip-list catalog-item__chips" aria-label="Capabilities">
                {entry.inputModalities.map((modality) => (
                  <li key={modality} className="chip">
                    {MODALITY_LABELS[modality] ?? modality}
                  </li>
                ))}
                {entry.supportsTools && <li className="chip">Tools</li>}
                {entry.supportsStructuredOutputs && <li className="chip">Structured outputs</li>}
                {entry.supportsReasoning && <li className="chip">Reasoning</li>}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
