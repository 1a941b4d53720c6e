import { writeFileSync } from "node:fs";
import path from "node:path";
import type { CatalogFile } from "~/server/catalog/catalog-file";

const base = {
  description: "",
  releasedAt: "2025-01-01",
  contextLength: 128_000,
  maxOutputTokens: 4_096,
  inputModalities: ["text" as const],
  outputModalities: ["text" as const],
  supportedParameters: ["max_tokens"],
};

/** Two OpenAI models and one from another author, with prices that a float would not keep exact. */
export const TEST_CATALOG: CatalogFile = {
  version: 1,
  models: [
    {
      ...base,
      id: "openai/test-alpha",
      name: "Alpha",
      author: "openai",
      upstreamModel: "test-alpha",
      pricing: { input: "0.15", output: "0.6", cacheRead: "0.075", cacheWrite: null },
    },
    {
      ...base,
      id: "openai/test-beta",
      name: "Beta",
      author: "openai",
      upstreamModel: "test-beta",
      pricing: { input: "2", output: "8", cacheRead: null, cacheWrite: null },
    },
    {
      ...base,
      id: "acme/widget-1",
      name: "Widget",
      author: "acme",
      upstreamModel: "widget-1",
      pricing: { input: "0.000000001", output: "123.456789012", cacheRead: null, cacheWrite: null },
    },
  ],
};

export function writeTestCatalog(directory: string, catalog: CatalogFile = TEST_CATALOG): string {
  const file = path.join(directory, "catalog.json");
  writeFileSync(file, JSON.stringify(catalog));
  return file;
}
