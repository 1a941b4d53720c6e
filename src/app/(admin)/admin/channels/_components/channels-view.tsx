"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";
import { AddChannelForm } from "./add-channel-form";
import { ChannelCard } from "./channel-card";

/** Every channel with its health (refreshed every 15 seconds), and the form to add one. */
export function ChannelsView() {
  const trpc = useTRPC();
  const channels = useQuery(trpc.admin.channels.list.queryOptions());
  const health = useQuery({ ...trpc.admin.channels.health.queryOptions(), refetchInterval: 15_000 });
  const healthById = new Map((health.data ?? []).map((entry) => [entry.channelId, entry]));

  return (
    <>
      <AddChannelForm />
      {channels.isPending ? (
        <p className="muted">Loading…</p>
      ) : channels.isError ? (
        <p className="alert alert--error">Could not load the channels: {formErrorMessage(channels.error)}</p>
      ) : channels.data.length === 0 ? (
        <section className="card">
          <p className="muted">No channel yet: add one above to route calls to an upstream provider.</p>
        </section>
      ) : (
        channels.data.map((channel) => (
          <ChannelCard key={channel.id} channel={channel} health={healthById.get(channel.id) ?? null} />
        ))
      )}
    </>
  );
}
