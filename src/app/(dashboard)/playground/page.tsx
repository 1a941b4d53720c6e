import type { Metadata } from "next";
import { toCatalogEntry } from "~/components/catalog/catalog-entry";
import { DEMO_MODEL } from "~/server/catalog/demo-model";
import { requestContainer } from "~/server/request-container";
import { Playground } from "./_components/playground";
import { toPlaygroundModel } from "./_components/playground-model";
import "./playground.css";

export const metadata: Metadata = { title: "Playground" };

export default async function PlaygroundPage({
  searchParams,
}: {
  searchParams: Promise<{ model?: string | string[] }>;
}) {
  const container = await requestContainer();
  // Chat models only: an embedding model has no answer to show.
  const models = container.gateway.publicCatalog
    .list()
    .map(toCatalogEntry)
    .filter((entry) => entry.outputModalities.includes("text"))
    .map(toPlaygroundModel);
  const asked = (await searchParams).model;
  const initial =
    models.find((model) => model.id === asked) ?? models.find((model) => model.id === DEMO_MODEL.id) ?? models[0];
  return (
    <>
      <div className="page-heading">
        <h1>Playground</h1>
        <p className="muted">
          Try any model before writing code, or two side by side. Answers are billed to your balance like API calls and
          appear in Activity as &ldquo;Playground&rdquo;; no API key needed.
        </p>
      </div>
      <Playground models={models} initialModelId={initial?.id ?? ""} />
    </>
  );
}
