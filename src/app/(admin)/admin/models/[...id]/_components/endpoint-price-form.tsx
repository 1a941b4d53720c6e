"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState, type FormEvent } from "react";
import { formErrorMessage } from "~/components/ui/form-error";
import type { AppRouter } from "~/server/api/root";
import { useTRPC } from "~/trpc/react";
import { TextField } from "~/app/(admin)/admin/_components/text-field";

type Endpoint = inferRouterOutputs<AppRouter>["admin"]["models"]["get"]["endpoints"][number];

/** The prices an endpoint has, as `${field}Nano` columns and as the editor's fields. */
export const PRICE_FIELDS = [
  ["inputPrice", "Input"],
  ["outputPrice", "Output"],
  ["cacheReadPrice", "Cache read"],
  ["cacheWritePrice", "Cache write"],
  ["reasoningPrice", "Reasoning"],
  ["requestPrice", "Per request"],
  ["imagePrice", "Per image"],
] as const;
type PriceField = (typeof PRICE_FIELDS)[number][0];
/** Input and output always have a price; the others may fall back (cache to input, reasoning to output, fees to none). */
const REQUIRED: ReadonlySet<PriceField> = new Set(["inputPrice", "outputPrice"]);

/** Nano-USD as exact decimal USD text ("2.5"); the browser never rounds a price through a float. */
export function usdText(nano: bigint): string {
  const negative = nano < 0n;
  const magnitude = negative ? -nano : nano;
  const fraction = (magnitude % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${magnitude / 1_000_000_000n}${fraction ? `.${fraction}` : ""}`;
}

/** Edits an endpoint's prices, markup, priority and weight; only what changed is sent. */
export function EndpointPriceForm({ endpoint: current, onDone }: { endpoint: Endpoint; onDone: () => void }) {
  // What the editor opened with: changes are worked out against it (the prop follows refetches), and saving is
  // refused if someone saved another price version since.
  const [endpoint] = useState(current);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [prices, setPrices] = useState<Record<PriceField, string>>(
    () =>
      Object.fromEntries(
        PRICE_FIELDS.map(([field]) => {
          const nano = endpoint[`${field}Nano`];
          return [field, nano === null ? "" : usdText(nano)];
        }),
      ) as Record<PriceField, string>,
  );
  const [markup, setMarkup] = useState(
    endpoint.markupBasisPoints === null ? "" : String(endpoint.markupBasisPoints / 100),
  );
  const [priority, setPriority] = useState(String(endpoint.priority));
  const [weight, setWeight] = useState(String(endpoint.weight));
  const update = useMutation(
    trpc.admin.models.updateEndpoint.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.admin.models.pathKey() });
        onDone();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const patch: Record<string, string | number | null> = {};
    for (const [field] of PRICE_FIELDS) {
      const before = endpoint[`${field}Nano`];
      const value = prices[field].trim();
      if (value === (before === null ? "" : usdText(before))) continue;
      patch[field] = value === "" && !REQUIRED.has(field) ? null : value;
    }
    const markupBefore = endpoint.markupBasisPoints === null ? "" : String(endpoint.markupBasisPoints / 100);
    if (markup.trim() !== markupBefore) patch.markupPercent = markup.trim() === "" ? null : markup.trim();
    if (Number(priority) !== endpoint.priority) patch.priority = Number(priority);
    if (Number(weight) !== endpoint.weight) patch.weight = Number(weight);
    update.mutate({
      id: endpoint.id,
      patch,
      ...(endpoint.priceVersionId === null ? {} : { expectedPriceVersionId: endpoint.priceVersionId }),
    });
  }

  const id = (field: string) => `endpoint-${endpoint.id}-${field}`;
  return (
    <form
      onSubmit={onSubmit}
      className="form form--tight endpoint-editor"
      aria-label={`Prices via ${endpoint.channelName}`}
    >
      <div className="field-row">
        {PRICE_FIELDS.map(([field, label]) => (
          <label key={field} className="field" htmlFor={id(field)}>
            <span className="field__label">
              {label} (USD{field === "requestPrice" || field === "imagePrice" ? "" : " / 1M"})
            </span>
            <input
              id={id(field)}
              className="input"
              inputMode="decimal"
              value={prices[field]}
              placeholder={REQUIRED.has(field) ? undefined : "none"}
              required={REQUIRED.has(field)}
              onChange={(event) => setPrices({ ...prices, [field]: event.target.value })}
            />
          </label>
        ))}
        <TextField
          id={id("markup")}
          label="Markup (%)"
          inputMode="decimal"
          value={markup}
          placeholder="platform"
          onChange={setMarkup}
        />
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
      <div className="button-row">
        <button type="submit" className="button button--primary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save prices"}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
      {update.error !== null && <p className="alert alert--error form-message">{formErrorMessage(update.error)}</p>}
    </form>
  );
}
