"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "~/trpc/react";

/** Downloads the catalog file (every model with its list prices), to edit and `tollgate catalog import` back. */
export function ExportCatalogButton() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function download() {
    setPending(true);
    setError(null);
    try {
      const file = await queryClient.fetchQuery({ ...trpc.admin.models.export.queryOptions(), staleTime: 0 });
      const url = URL.createObjectURL(new Blob([JSON.stringify(file, null, 2)], { type: "application/json" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `catalog-${new Date().toISOString().slice(0, 10)}.json`;
      link.click();
      URL.revokeObjectURL(url);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setPending(false);
    }
  }

  return (
    <>
      <button
        type="button"
        className="button button--secondary small"
        disabled={pending}
        onClick={() => void download()}
      >
        {pending ? "Exporting…" : "Export catalog file"}
      </button>
      {error !== null && <p className="alert alert--error form-message">{error}</p>}
    </>
  );
}
