import type { CatalogEntry } from "./catalog-entry";

/*
 * The catalog page's search, filters and sort, as plain functions of the entries and the query string: the page keeps
 * its filters in the URL, so a filtered view can be bookmarked and shared.
 */

export type CatalogSort = "name" | "price-asc" | "price-desc" | "context-desc" | "newest";

export interface CatalogFilters {
  search: string;
  provider: string;
  /** An input modality every listed model must take ("" for any). */
  modality: string;
  /** USD per million input tokens, at most; null for no bound. */
  maxInputPrice: number | null;
  /** Tokens, at least; 0 for any. */
  minContext: number;
  tools: boolean;
  structuredOutputs: boolean;
  reasoning: boolean;
  sort: CatalogSort;
}

export const NO_FILTERS: CatalogFilters = {
  search: "",
  provider: "",
  modality: "",
  maxInputPrice: null,
  minContext: 0,
  tools: false,
  structuredOutputs: false,
  reasoning: false,
  sort: "name",
};

const SORTS: readonly CatalogSort[] = ["name", "price-asc", "price-desc", "context-desc", "newest"];

/** A model's price for sorting: what one million input and one million output tokens cost together. */
const blendedPrice = (entry: CatalogEntry) => Number(entry.inputPerMillion) + Number(entry.outputPerMillion);

export function applyCatalogFilters(entries: readonly CatalogEntry[], filters: CatalogFilters): CatalogEntry[] {
  const words = filters.search.toLowerCase().split(/\s+/).filter(Boolean);
  const kept = entries.filter((entry) => {
    const text = `${entry.id} ${entry.name} ${entry.description} ${entry.providers.join(" ")}`.toLowerCase();
    if (!words.every((word) => text.includes(word))) return false;
    if (filters.provider !== "" && !entry.providers.includes(filters.provider)) return false;
    if (filters.modality !== "" && !entry.inputModalities.includes(filters.modality)) return false;
    if (filters.maxInputPrice !== null && Number(entry.inputPerMillion) > filters.maxInputPrice) return false;
    if (entry.contextLength < filters.minContext) return false;
    if (filters.tools && !entry.supportsTools) return false;
    if (filters.structuredOutputs && !entry.supportsStructuredOutputs) return false;
    if (filters.reasoning && !entry.supportsReasoning) return false;
    return true;
  });
  const byName = (a: CatalogEntry, b: CatalogEntry) => a.name.localeCompare(b.name);
  const comparators: Record<CatalogSort, (a: CatalogEntry, b: CatalogEntry) => number> = {
    name: byName,
    "price-asc": (a, b) => blendedPrice(a) - blendedPrice(b) || byName(a, b),
    "price-desc": (a, b) => blendedPrice(b) - blendedPrice(a) || byName(a, b),
    "context-desc": (a, b) => b.contextLength - a.contextLength || byName(a, b),
    newest: (a, b) => b.created - a.created || byName(a, b),
  };
  return kept.sort(comparators[filters.sort]);
}

function nonNegativeNumber(value: string | null): number | null {
  if (value === null || value.trim() === "") return null;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : null;
}

/** Filters from a query string; anything unknown or malformed falls back to "no filter". */
export function filtersFromQuery(query: URLSearchParams): CatalogFilters {
  const sort = query.get("sort");
  return {
    search: query.get("q") ?? "",
    provider: query.get("provider") ?? "",
    modality: query.get("modality") ?? "",
    maxInputPrice: nonNegativeNumber(query.get("max_price")),
    minContext: nonNegativeNumber(query.get("min_context")) ?? 0,
    tools: query.get("tools") === "1",
    structuredOutputs: query.get("structured") === "1",
    reasoning: query.get("reasoning") === "1",
    sort: SORTS.includes(sort as CatalogSort) ? (sort as CatalogSort) : "name",
  };
}

/** The query string for some filters, naming only those that filter. */
export function queryFromFilters(filters: CatalogFilters): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.search !== "") query.set("q", filters.search);
  if (filters.provider !== "") query.set("provider", filters.provider);
  if (filters.modality !== "") query.set("modality", filters.modality);
  if (filters.maxInputPrice !== null) query.set("max_price", String(filters.maxInputPrice));
  if (filters.minContext > 0) query.set("min_context", String(filters.minContext));
  if (filters.tools) query.set("tools", "1");
  if (filters.structuredOutputs) query.set("structured", "1");
  if (filters.reasoning) query.set("reasoning", "1");
  if (filters.sort !== "name") query.set("sort", filters.sort);
  return query;
}
