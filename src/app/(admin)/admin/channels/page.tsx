import type { Metadata } from "next";
import { getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { ChannelsView } from "./_components/channels-view";

export const metadata: Metadata = { title: "Channels · Admin" };

export default async function AdminChannelsPage() {
  const queryClient = getQueryClient();
  await Promise.all([
    queryClient.prefetchQuery(trpc.admin.channels.list.queryOptions()),
    queryClient.prefetchQuery(trpc.admin.channels.health.queryOptions()),
  ]);
  return (
    <HydrateClient>
      <div className="page-heading">
        <h1>Channels</h1>
        <p className="muted">
          Upstream accounts the gateway routes to, with their health over all their models. Keys are write-only: once
          saved, they are never shown again.
        </p>
      </div>
      <ChannelsView />
    </HydrateClient>
  );
}
