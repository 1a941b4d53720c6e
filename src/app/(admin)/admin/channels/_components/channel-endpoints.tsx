"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";

/**
 * The models a channel serves, read when opened (an aggregator may serve hundreds): each endpoint's upstream name,
 * priority and weight, a link to its prices, and a form to serve one more model.
 */
export function ChannelEndpoints(props: { channelId: string; channelName: string; endpointCount: number }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [modelId, setModelId] = useState("");
  const [upstreamModel, setUpstreamModel] = useState("");
  const endpoints = useQuery({
    ...trpc.admin.channels.endpoints.queryOptions({ channelId: props.channelId }),
    enabled: open,
  });
  const add = useMutation(
    trpc.admin.models.addEndpoints.mutationOptions({
      onSuccess: async () => {
        setModelId("");
        setUpstreamModel("");
        await queryClient.invalidateQueries({ queryKey: trpc.admin.channels.pathKey() });
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    add.mutate({
      channelId: props.channelId,
      models: [upstreamModel.trim() === "" ? { modelId } : { modelId, upstreamModel }],
    });
  }

  return (
    <details className="channel-endpoints" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>
        Serves {props.endpointCount} model{props.endpointCount === 1 ? "" : "s"}
      </summary>
      {endpoints.isPending ? (
        <p className="muted small">Loading…</p>
      ) : endpoints.isError ? (
        <p className="alert alert--error">{formErrorMessage(endpoints.error)}</p>
      ) : endpoints.data.length === 0 ? (
        <p className="muted small">No models yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--stack">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Upstream name</th>
                <th scope="col" className="table__number">
                  Priority
                </th>
                <th scope="col" className="table__number">
                  Weight
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.data.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td data-label="Model">
                    <Link href={`/admin/models/${endpoint.modelId}`}>{endpoint.modelId}</Link>
                  </td>
                  <td data-label="Upstream name" className="key-prefix">
                    {endpoint.upstreamModel}
                  </td>
                  <td data-label="Priority" className="table__number">
                    {endpoint.priority}
                  </td>
                  <td data-label="Weight" className="table__number">
                    {endpoint.weight}
                  </td>
                  <td data-label="Status">{endpoint.enabled ? "enabled" : "disabled"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={onSubmit} className="inline-form" aria-label={`Serve another model on ${props.channelName}`}>
        <label className="field inline-form__grow" htmlFor={`serve-${props.channelId}-model`}>
          <span className="field__label">Model id</span>
          <input
            id={`serve-${props.channelId}-model`}
            className="input input--mono"
            value={modelId}
            onChange={(event) => setModelId(event.target.value)}
            required
            placeholder="openai/gpt-4.1-mini"
          />
        </label>
        <label className="field inline-form__grow" htmlFor={`serve-${props.channelId}-upstream`}>
          <span className="field__label">Upstream name</span>
          <input
            id={`serve-${props.channelId}-upstream`}
            className="input input--mono"
            value={upstreamModel}
            onChange={(event) => setUpstreamModel(event.target.value)}
            placeholder="the model's own"
          />
        </label>
        <button type="submit" className="button button--secondary" disabled={add.isPending}>
          Serve model
        </button>
      </form>
      {add.error !== null && <p className="alert alert--error form-message">{formErrorMessage(add.error)}</p>}
      {add.data !== undefined && (
        <p className="alert alert--success form-message" role="status">
          {add.data.added === 0
            ? "The channel already serves that model."
            : "Added; routing uses it from the next call."}
        </p>
      )}
    </details>
  );
}
