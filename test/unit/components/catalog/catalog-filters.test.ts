import { describe, expect, it } from "vitest";
import type { CatalogEntry } from "~/components/catalog/catalog-entry";
import {
  applyCatalogFilters,
  filtersFromQuery,
  NO_FILTERS,
  queryFromFilters,
  type CatalogFilters,
} from "~/components/catalog/catalog-filters";

function entry(id: string, overrides: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    id,
    name: id.split("/")[1]!,
    author: id.split("/")[0]!,
    description: "",
    contextLength: 128_000,
    maxOutputTokens: 16_000,
    inputModalities: ["text"],
    outputModalities: ["text"],
    providers: [id.split("/")[0]!],
    inputPerMillion: "1",
    outputPerMillion: "2",
    supportsTools: false,
    supportsStructuredOutputs: false,
    supportsReasoning: false,
    created: 1_700_000_000,
    ...overrides,
  };
}

const ENTRIES = [
  entry("openai/gpt-4.1", {
    inputPerMillion: "2",
    outputPerMillion: "8",
    contextLength: 1_047_576,
    supportsTools: true,
  }),
  entry("openai/gpt-4o-mini", { inputPerMillion: "0.15", outputPerMillion: "0.6", inputModalities: ["text", "image"] }),
  entry("anthropic/claude-haiku-4.5", {
    inputPerMillion: "1",
    outputPerMillion: "5",
    contextLength: 200_000,
    supportsReasoning: true,
    supportsStructuredOutputs: true,
    providers: ["anthropic", "bedrock"],
    created: 1_760_000_000,
  }),
];

const ids = (filters: Partial<CatalogFilters>) =>
  applyCatalogFilters(ENTRIES, { ...NO_FILTERS, ...filters }).map((kept) => kept.id);

describe("applyCatalogFilters", () => {
  it("matches every search word anywhere in id, name, description or providers", () => {
    expect(ids({ search: "gpt mini" })).toEqual(["openai/gpt-4o-mini"]);
    expect(ids({ search: "BEDROCK" })).toEqual(["anthropic/claude-haiku-4.5"]);
    expect(ids({ search: "   " })).toHaveLength(3);
  });

  it("filters by provider, input modality, price bound, context and capabilities", () => {
    expect(ids({ provider: "bedrock" })).toEqual(["anthropic/claude-haiku-4.5"]);
    expect(ids({ modality: "image" })).toEqual(["openai/gpt-4o-mini"]);
    // The bound includes a model priced exactly at it.
    expect(ids({ maxInputPrice: 1 }).sort()).toEqual(["anthropic/claude-haiku-4.5", "openai/gpt-4o-mini"]);
    expect(ids({ maxInputPrice: 0 })).toEqual([]);
    expect(ids({ minContext: 200_000 }).sort()).toEqual(["anthropic/claude-haiku-4.5", "openai/gpt-4.1"]);
    expect(ids({ tools: true })).toEqual(["openai/gpt-4.1"]);
    expect(ids({ structuredOutputs: true, reasoning: true })).toEqual(["anthropic/claude-haiku-4.5"]);
  });

  it("sorts by name, blended price either way, context and release", () => {
    expect(ids({})).toEqual(["anthropic/claude-haiku-4.5", "openai/gpt-4.1", "openai/gpt-4o-mini"]);
    expect(ids({ sort: "price-asc" })).toEqual(["openai/gpt-4o-mini", "anthropic/claude-haiku-4.5", "openai/gpt-4.1"]);
    expect(ids({ sort: "price-desc" })).toEqual(["openai/gpt-4.1", "anthropic/claude-haiku-4.5", "openai/gpt-4o-mini"]);
    expect(ids({ sort: "context-desc" })[0]).toBe("openai/gpt-4.1");
    expect(ids({ sort: "newest" })[0]).toBe("anthropic/claude-haiku-4.5");
  });

  it("leaves the entries it was given in their order", () => {
    const before = ENTRIES.map((kept) => kept.id);
    applyCatalogFilters(ENTRIES, { ...NO_FILTERS, sort: "price-desc" });
    expect(ENTRIES.map((kept) => kept.id)).toEqual(before);
  });
});

describe("the filters in the query string", () => {
  it("round-trip, naming only the filters that filter", () => {
    const filters: CatalogFilters = {
      ...NO_FILTERS,
      search: "claude",
      maxInputPrice: 0.5,
      minContext: 200_000,
      reasoning: true,
      sort: "price-asc",
    };
    const query = queryFromFilters(filters);
    expect(query.toString()).toBe("q=claude&max_price=0.5&min_context=200000&reasoning=1&sort=price-asc");
    expect(filtersFromQuery(query)).toEqual(filters);
    expect(queryFromFilters(NO_FILTERS).toString()).toBe("");
  });

  it("fall back to no filter for what is malformed", () => {
    const filters = filtersFromQuery(new URLSearchParams("max_price=-1&min_context=lots&sort=random&tools=yes"));
    expect(filters).toEqual(NO_FILTERS);
  });
});
