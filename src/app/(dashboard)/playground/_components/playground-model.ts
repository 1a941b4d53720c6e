import type { CatalogEntry } from "~/components/catalog/catalog-entry";

/** What the playground needs to know of a model: the catalog's entry, trimmed. */
export type PlaygroundModel = Pick<
  CatalogEntry,
  | "id"
  | "name"
  | "contextLength"
  | "inputPerMillion"
  | "outputPerMillion"
  | "supportsReasoning"
  | "supportsStructuredOutputs"
>;

export function toPlaygroundModel(entry: CatalogEntry): PlaygroundModel {
  return {
    id: entry.id,
    name: entry.name,
    contextLength: entry.contextLength,
    inputPerMillion: entry.inputPerMillion,
    outputPerMillion: entry.outputPerMillion,
    supportsReasoning: entry.supportsReasoning,
    supportsStructuredOutputs: entry.supportsStructuredOutputs,
  };
}
