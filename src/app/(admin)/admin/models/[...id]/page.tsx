import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { EndpointList } from "./_components/endpoint-list";
import { ModelEditor } from "./_components/model-editor";

export const metadata: Metadata = { title: "Model · Admin" };

/** One model: its metadata, and the endpoints serving it with their prices, markup and price history. */
export default async function AdminModelPage({ params }: { params: Promise<{ id: string[] }> }) {
  const id = (await params).id.map(decodeURIComponent).join("/");
  const queryClient = getQueryClient();
  const detail = await queryClient.fetchQuery(trpc.admin.models.get.queryOptions({ id })).catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "NOT_FOUND") notFound();
    throw error;
  });
  return (
    <HydrateClient>
      <p className="small">
        <Link href="/admin/models">← Models</Link>
      </p>
      <div className="page-heading">
        <h1 className="admin-account__email">{detail.model.name}</h1>
        <p className="muted">
          <span className="key-prefix">{detail.model.id}</span> · by {detail.model.author} ·{" "}
          <Link href={`/models/${detail.model.id}`}>public page</Link>
        </p>
      </div>
      <ModelEditor id={id} />
      <EndpointList id={id} />
    </HydrateClient>
  );
}
