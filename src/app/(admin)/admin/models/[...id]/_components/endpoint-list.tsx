"use client";

import { useSuspenseQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "~/trpc/react";
import { EndpointCard } from "./endpoint-card";

/** The endpoints serving the model, each with its prices, editor and history. */
export function EndpointList({ id }: { id: string }) {
  const trpc = useTRPC();
  const { data } = useSuspenseQuery(trpc.admin.models.get.queryOptions({ id }));
  const enabled = data.endpoints.filter((endpoint) => endpoint.enabled && endpoint.channelEnabled);
  return (
    <section className="card" aria-labelledby="endpoints-heading">
      <h2 id="endpoints-heading" className="card__title">
        Endpoints ({enabled.length} routing of {data.endpoints.length})
      </h2>
      <p className="muted small">
        Prices are USD per million tokens (fees per request or image), before markup. The platform&apos;s markup is{" "}
        {data.platformMarkupBasisPoints / 100}%; an endpoint may have its own. A change applies to new calls on every
        gateway at once and is kept as a dated version.
      </p>
      {data.endpoints.length === 0 ? (
        <p className="muted">
          No channel serves this model yet: on <Link href="/admin/channels">Channels</Link>, open a channel&apos;s
          models and serve it.
        </p>
      ) : (
        data.endpoints.map((endpoint) => (
          <EndpointCard
            key={endpoint.id}
            modelId={id}
            endpoint={endpoint}
            platformMarkupBasisPoints={data.platformMarkupBasisPoints}
          />
        ))
      )}
    </section>
  );
}
