import type { Metadata } from "next";
import { toCatalogEntry } from "~/components/catalog/catalog-entry";
import { filtersFromQuery } from "~/components/catalog/catalog-filters";
import { ModelCatalog } from "~/components/catalog/model-catalog";
import "./catalog.css";
import { requestContainer } from "~/server/request-container";

export const metadata: Metadata = {
  title: "Models",
  description: "Every model Tollgate serves, with its providers, context length and the prices charged per token.",
};

export default async function ModelsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { gateway } = await requestContainer();
  const entries = gateway.publicCatalog.list().map(toCatalogEntry);
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(await searchParams)) {
    if (typeof value === "string") query.set(name, value);
  }
  const providerCount = new Set(entries.flatMap((entry) => entry.providers)).size;
  return (
    <>
      <div className="page-heading">
        <h1>Models</h1>
        <p className="muted">
          {entries.length} {entries.length === 1 ? "model" : "models"} from {providerCount}{" "}
          {providerCount === 1 ? "provider" : "providers"}, one API. Prices are what a call is charged, per million
          tokens. Also as JSON at <code>/api/v1/models</code>.
        </p>
      </div>
      <ModelCatalog entries={entries} initialFilters={filtersFromQuery(query)} />
    </>
  );
}
