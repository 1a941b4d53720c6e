"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";
import { CallsSparkline } from "./calls-sparkline";
import { ChannelEndpoints } from "./channel-endpoints";
import type { ChannelHealth, ChannelItem } from "./channel-types";
import { EditChannelForm } from "./edit-channel-form";

function percent(share: number | null | undefined): string {
  return share === null || share === undefined
    ? "—"
    : `${(share * 100).toFixed(share > 0.999 || share < 0.001 ? 0 : 1)}%`;
}

function milliseconds(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value).toLocaleString("en-US")} ms`;
}

/** One channel: what it is, how it is doing, and what an operator can do with it. */
export function ChannelCard({ channel, health }: { channel: ChannelItem; health: ChannelHealth | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.channels.pathKey() });
  const test = useMutation(trpc.admin.channels.test.mutationOptions({ onSettled: refresh }));
  const setEnabled = useMutation(trpc.admin.channels.setEnabled.mutationOptions({ onSuccess: refresh }));
  const stats = health?.stats;
  const headingId = `channel-${channel.id}-heading`;

  return (
    <section
      className="card channel-card"
      id={`channel-${channel.id}`}
      aria-labelledby={headingId}
      data-testid="channel-card"
    >
      <div className="card__header-row">
        <div>
          <h2 id={headingId} className="card__title channel-card__name">
            {channel.name}
          </h2>
          <p className="muted small">
            {channel.kind} · {channel.provider}
            {channel.aggregator && " · aggregator"} · priority {channel.priority}, weight {channel.weight} ·{" "}
            <span className="key-prefix">{channel.baseUrl}</span> · key {channel.hasSecret ? "set" : "none"}
          </p>
        </div>
        <span className="badge-row">
          {!channel.enabled && <span className="badge badge--revoked">Disabled</span>}
          {channel.brokenAt !== null && <span className="badge badge--danger">Broken</span>}
          {channel.enabled && channel.brokenAt === null && <span className="badge badge--active">Routing</span>}
        </span>
      </div>
      {channel.brokenAt !== null && (
        <p className="alert alert--error">
          Broken since {formatDateTime(channel.brokenAt)} UTC: {channel.brokenReason}. Routing skips it until its key or
          URL is fixed, it is enabled again, or a test succeeds.
        </p>
      )}
      <div className="channel-health">
        <Figure label="Uptime 5 min" value={percent(stats?.last5m.uptime)} />
        <Figure label="Uptime 1 day" value={percent(stats?.last1d.uptime)} />
        <Figure label="Error rate 30 min" value={percent(stats?.last30m.errorRate)} />
        <Figure label="p50 latency" value={milliseconds(stats?.latencyMs?.p50)} />
        <Figure label="p50 first token" value={milliseconds(stats?.firstTokenMs?.p50)} />
        <div className="channel-health__spark">
          <span className="stat__label">Last hour</span>
          <CallsSparkline requests={health?.requestsByMinute ?? []} errors={health?.errorsByMinute ?? []} />
        </div>
      </div>
      <div className="button-row">
        <button
          type="button"
          className="button button--secondary small"
          disabled={test.isPending}
          onClick={() => test.mutate({ id: channel.id })}
        >
          {test.isPending ? "Testing…" : "Test"}
        </button>
        <button
          type="button"
          className={`button small ${channel.enabled ? "button--danger" : "button--primary"}`}
          disabled={setEnabled.isPending}
          onClick={() => setEnabled.mutate({ id: channel.id, enabled: !channel.enabled })}
        >
          {channel.enabled ? "Disable" : "Enable"}
        </button>
        <button
          type="button"
          className="button button--ghost small"
          onClick={() => setEditing(!editing)}
          aria-expanded={editing}
        >
          {editing ? "Close editor" : "Edit"}
        </button>
      </div>
      {test.data !== undefined && (
        <p
          className={`alert form-message ${test.data.ok ? "alert--success" : "alert--error"}`}
          role="status"
          data-testid="channel-test-result"
        >
          {test.data.ok ? "Test passed" : "Test failed"}: {test.data.upstreamModel} answered{" "}
          {test.data.status === null ? "nothing" : `HTTP ${test.data.status}`} in {test.data.latencyMs} ms
          {test.data.error && <> · {test.data.error}</>}
        </p>
      )}
      {test.error !== null && <p className="alert alert--error form-message">{formErrorMessage(test.error)}</p>}
      {test.data === undefined && channel.lastTestedAt !== null && (
        <p className="muted small">
          Last test {formatDateTime(channel.lastTestedAt)} UTC:{" "}
          {channel.lastTestStatus === null ? "no answer" : `HTTP ${channel.lastTestStatus}`},{" "}
          {channel.lastTestLatencyMs} ms{channel.lastTestError && ` · ${channel.lastTestError}`}
        </p>
      )}
      {setEnabled.error !== null && (
        <p className="alert alert--error form-message">{formErrorMessage(setEnabled.error)}</p>
      )}
      {editing && <EditChannelForm channel={channel} onDone={() => setEditing(false)} />}
      <ChannelEndpoints channelId={channel.id} channelName={channel.name} endpointCount={channel.endpointCount} />
    </section>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <div className="stat__label">{label}</div>
      <div className="channel-health__value">{value}</div>
    </div>
  );
}
