"use client";

import { formErrorMessage } from "~/components/ui/form-error";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";
import type { ChannelItem } from "./channel-types";

const TIMEOUTS = [
  ["connectTimeoutMs", "Connect timeout (ms)"],
  ["firstByteTimeoutMs", "First byte timeout (ms)"],
  ["idleTimeoutMs", "Idle timeout (ms)"],
  ["totalTimeoutMs", "Total timeout (ms)"],
] as const;

type TimeoutField = (typeof TIMEOUTS)[number][0];

/**
 * Edits a channel. Only the fields that differ are sent; the key field starts empty and replaces the key only when
 * filled (it is never read back); an empty timeout takes the configured default.
 */
export function EditChannelForm({ channel, onDone }: { channel: ChannelItem; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(channel.name);
  const [baseUrl, setBaseUrl] = useState(channel.baseUrl);
  const [provider, setProvider] = useState(channel.provider);
  const [apiKey, setApiKey] = useState("");
  const [priority, setPriority] = useState(String(channel.priority));
  const [weight, setWeight] = useState(String(channel.weight));
  const [aggregator, setAggregator] = useState(channel.aggregator);
  const [retainsData, setRetainsData] = useState(channel.retainsData);
  const [timeouts, setTimeouts] = useState<Record<TimeoutField, string>>(() => ({
    connectTimeoutMs: channel.connectTimeoutMs?.toString() ?? "",
    firstByteTimeoutMs: channel.firstByteTimeoutMs?.toString() ?? "",
    idleTimeoutMs: channel.idleTimeoutMs?.toString() ?? "",
    totalTimeoutMs: channel.totalTimeoutMs?.toString() ?? "",
  }));
  const update = useMutation(
    trpc.admin.channels.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.admin.channels.pathKey() });
        onDone();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const timeoutPatch: Partial<Record<TimeoutField, number | null>> = {};
    for (const [field] of TIMEOUTS) {
      const value = timeouts[field].trim() === "" ? null : Number(timeouts[field]);
      if (value !== channel[field]) timeoutPatch[field] = value;
    }
    update.mutate({
      id: channel.id,
      patch: {
        ...(name !== channel.name ? { name } : {}),
        ...(baseUrl !== channel.baseUrl ? { baseUrl } : {}),
        ...(provider !== channel.provider ? { provider } : {}),
        ...(apiKey.trim() !== "" ? { apiKey } : {}),
        ...(Number(priority) !== channel.priority ? { priority: Number(priority) } : {}),
        ...(Number(weight) !== channel.weight ? { weight: Number(weight) } : {}),
        ...(aggregator !== channel.aggregator ? { aggregator } : {}),
        ...(retainsData !== channel.retainsData ? { retainsData } : {}),
        ...timeoutPatch,
      },
    });
  }

  const id = (field: string) => `channel-${channel.id}-${field}`;
  return (
    <form onSubmit={onSubmit} className="form form--tight channel-editor" aria-label={`Edit ${channel.name}`}>
      <div className="field-row">
        <TextField id={id("name")} label="Name" value={name} required onChange={setName} />
        <TextField id={id("provider")} label="Provider slug" value={provider} required onChange={setProvider} />
        <TextField
          id={id("priority")}
          label="Priority"
          type="number"
          value={priority}
          required
          onChange={setPriority}
        />
        <TextField
          id={id("weight")}
          label="Weight"
          type="number"
          min={1}
          value={weight}
          required
          onChange={setWeight}
        />
      </div>
      <TextField id={id("base-url")} label="Base URL" value={baseUrl} required onChange={setBaseUrl} mono />
      <label className="field" htmlFor={id("key")}>
        <span className="field__label">
          New upstream key ({channel.hasSecret ? "one is set; leave empty to keep it" : "none set"})
        </span>
        <input
          id={id("key")}
          className="input input--mono"
          type="password"
          autoComplete="off"
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
        />
      </label>
      <div className="field-row">
        {TIMEOUTS.map(([field, label]) => (
          <label key={field} className="field" htmlFor={id(field)}>
            <span className="field__label">{label}</span>
            <input
              id={id(field)}
              className="input"
              type="number"
              min={1}
              placeholder="default"
              value={timeouts[field]}
              onChange={(event) => setTimeouts({ ...timeouts, [field]: event.target.value })}
            />
          </label>
        ))}
      </div>
      <div className="field-row">
        <label className="checkbox" htmlFor={id("aggregator")}>
          <input
            id={id("aggregator")}
            type="checkbox"
            checked={aggregator}
            onChange={(event) => setAggregator(event.target.checked)}
          />
          Aggregator (a fallback behind models&apos; native channels)
        </label>
        <label className="checkbox" htmlFor={id("retains")}>
          <input
            id={id("retains")}
            type="checkbox"
            checked={retainsData}
            onChange={(event) => setRetainsData(event.target.checked)}
          />
          Provider may retain prompts
        </label>
      </div>
      <div className="button-row">
        <button type="submit" className="button button--primary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save channel"}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
      {update.error !== null && <p className="alert alert--error form-message">{formErrorMessage(update.error)}</p>}
    </form>
  );
}
