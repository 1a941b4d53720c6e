import type { Metadata } from "next";
import Link from "next/link";
import { formatTokenCount } from "~/components/ui/format";
import { api } from "~/trpc/server";
import { AddModelForm } from "./_components/add-model-form";
import { ExportCatalogButton } from "./_components/export-catalog-button";

export const metadata: Metadata = { title: "Models · Admin" };

/** The catalog, disabled models included, with how many endpoints serve each. */
export default async function AdminModelsPage() {
  const models = await api.admin.models.list();
  return (
    <>
      <div className="page-heading">
        <h1>Models and prices</h1>
        <p className="muted">
          Open a model to edit it, its endpoints&apos; prices and markup, and see every price it has had. For bulk
          changes, export the catalog file, edit it, and <code>tollgate catalog import FILE</code> it back: that
          reprices every endpoint to the list prices.
        </p>
      </div>
      <AddModelForm />
      <section className="card" aria-labelledby="models-heading">
        <div className="card__header-row">
          <h2 id="models-heading" className="card__title">
            {models.length} models
          </h2>
          <ExportCatalogButton />
        </div>
        <div className="table-wrap">
          <table className="table table--stack" data-testid="admin-models">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Author</th>
                <th scope="col" className="table__number">
                  Context
                </th>
                <th scope="col" className="table__number">
                  Endpoints
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {models.map((model) => (
                <tr key={model.id} className={model.enabled ? undefined : "table__row--muted"}>
                  <td data-label="Model">
                    <Link href={`/admin/models/${model.id}`}>{model.id}</Link>
                    <div className="muted small">{model.name}</div>
                  </td>
                  <td data-label="Author">{model.author}</td>
                  <td data-label="Context" className="table__number">
                    {formatTokenCount(model.contextLength)}
                  </td>
                  <td data-label="Endpoints" className="table__number">
                    {model.enabledEndpointCount === model.endpointCount
                      ? model.endpointCount
                      : `${model.enabledEndpointCount} of ${model.endpointCount}`}
                  </td>
                  <td data-label="Status">
                    {!model.enabled ? (
                      <span className="badge badge--revoked">Disabled</span>
                    ) : model.enabledEndpointCount === 0 ? (
                      <span className="badge badge--danger">No endpoint</span>
                    ) : (
                      <span className="badge badge--active">Served</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
