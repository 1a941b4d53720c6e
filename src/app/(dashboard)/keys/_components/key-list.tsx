"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Fragment, useState, type FormEvent } from "react";
import { SpendSparkline } from "~/components/dashboard/spend-sparkline";
import { formatDateTime, formatUsd } from "~/components/ui/format";
import type { AppRouter } from "~/server/api/root";
import { useTRPC } from "~/trpc/react";
import { KeyLimitFields } from "./key-limit-fields";
import {
  dateInputFromExpiry,
  describeAllowlist,
  describeLimit,
  describeRateLimits,
  expiryFromDateInput,
  firstFieldError,
  inputFromRate,
  rateFromInput,
  resetFromSelect,
  sameModels,
} from "./key-limits";
import { ModelAllowlistField } from "./model-allowlist-field";
import { RateLimitFields, type RateLimitInputs } from "./rate-limit-fields";

type Key = inferRouterOutputs<AppRouter>["keys"]["list"][number];

/** The days `activity.keySpendByDay` covers, today included. */
const SPARKLINE_DAYS = 14;

const STATUS_LABELS: Record<Key["status"], string> = {
  active: "Active",
  disabled: "Disabled",
  expired: "Expired",
  revoked: "Revoked",
};

export function KeyList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.keys.list.queryOptions());
  const spendByDay = useQuery(trpc.activity.keySpendByDay.queryOptions());
  const [confirming, setConfirming] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
  const revoke = useMutation(
    trpc.keys.revoke.mutationOptions({
      onSettled: async () => {
        setConfirming(null);
        await refresh();
      },
    }),
  );
  const setDisabled = useMutation(trpc.keys.setDisabled.mutationOptions({ onSettled: refresh }));
  const error = revoke.error ?? setDisabled.error;

  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading" className="card__title">
        Your keys
      </h2>
      {error !== null && (
        <p className="alert alert--error" role="alert">
          {error.message}
        </p>
      )}
      {keys.isPending ? (
        <p className="muted">Loading…</p>
      ) : keys.isError ? (
        <p className="alert alert--error">Could not load your keys.</p>
      ) : keys.data.length === 0 ? (
        <p className="muted">No keys yet. Create one above to call the API.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--wrap table--stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Limits</th>
                <th scope="col">Spent this period</th>
                <th scope="col">Last {SPARKLINE_DAYS} days</th>
                <th scope="col">Expires (UTC)</th>
                <th scope="col">Last used (UTC)</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <Fragment key={key.id}>
                  <tr className={key.status !== "active" ? "table__row--muted" : undefined}>
                    <td data-label="Name">
                      <span className="key-name">{key.name}</span>
                      <code className="key-prefix">{key.prefix}…</code>
                    </td>
                    <td data-label="Limits">
                      <KeyLimitsSummary apiKey={key} />
                    </td>
                    <td data-label="Spent this period">
                      {formatUsd(key.periodSpendUsd)}
                      {key.remainingUsd !== null && (
                        <span className="muted small"> ({formatUsd(key.remainingUsd)} left)</span>
                      )}
                    </td>
                    <td data-label={`Last ${SPARKLINE_DAYS} days`}>
                      {spendByDay.isSuccess && (
                        <SpendSparkline days={spendByDay.data[key.id]} dayCount={SPARKLINE_DAYS} />
                      )}
                    </td>
                    <td data-label="Expires (UTC)">
                      {key.expiresAt === null ? <span className="muted">Never</span> : formatDateTime(key.expiresAt)}
                    </td>
                    <td data-label="Last used (UTC)">
                      {key.lastUsedAt === null ? <span className="muted">Never</span> : formatDateTime(key.lastUsedAt)}
                    </td>
                    <td data-label="Status">
                      <span className={`badge ${key.status === "active" ? "badge--active" : "badge--revoked"}`}>
                        {STATUS_LABELS[key.status]}
                      </span>
                    </td>
                    <td className="table__actions">
                      {key.revokedAt === null &&
                        (confirming === key.id ? (
                          <span className="confirm">
                            <span className="small">Revoke this key?</span>
                            <span className="confirm__buttons">
                              <button
                                type="button"
                                className="button button--danger small"
                                disabled={revoke.isPending}
                                onClick={() => revoke.mutate({ id: key.id })}
                              >
                                {revoke.isPending ? "Revoking…" : "Yes, revoke"}
                              </button>
                              <button
                                type="button"
                                className="button button--ghost small"
                                onClick={() => setConfirming(null)}
                              >
                                Cancel
                              </button>
                            </span>
                          </span>
                        ) : (
                          <span className="confirm__buttons">
                            <button
                              type="button"
                              className="button button--ghost small"
                              aria-expanded={editing === key.id}
                              onClick={() => setEditing(editing === key.id ? null : key.id)}
                            >
                              Limits
                            </button>
                            <button
                              type="button"
                              className="button button--secondary small"
                              disabled={setDisabled.isPending}
                              onClick={() => setDisabled.mutate({ id: key.id, disabled: key.disabledAt === null })}
                            >
                              {key.disabledAt === null ? "Disable" : "Enable"}
                            </button>
                            <button
                              type="button"
                              className="button button--secondary small"
                              onClick={() => setConfirming(key.id)}
                            >
                              Revoke
                            </button>
                          </span>
                        ))}
                    </td>
                  </tr>
                  {editing === key.id && key.revokedAt === null && (
                    <tr>
                      <td colSpan={8}>
                        <EditLimitsForm apiKey={key} onDone={() => setEditing(null)} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
          <p className="muted small table-note">
            Disabling and revoking take effect immediately. A disabled key can be enabled again; a revoked one cannot.
          </p>
        </div>
      )}
    </section>
  );
}

/** The spend limit, and the allowlist and rate limits where the key has its own. */
function KeyLimitsSummary({ apiKey }: { apiKey: Key }) {
  const models = describeAllowlist(apiKey.allowedModels);
  const rates = describeRateLimits(apiKey);
  return (
    <span className="key-limits">
      <span>{describeLimit(apiKey.spendLimitUsd, apiKey.limitReset)}</span>
      {models !== null && (
        <span className="muted small" title={apiKey.allowedModels?.join(", ")}>
          Only <BreakAfterSlashes text={models} />
        </span>
      )}
      {rates !== null && <span className="muted small">{rates}</span>}
    </span>
  );
}

/** A model id that may wrap after each `/` (provider/model) rather than inside a word. */
function BreakAfterSlashes({ text }: { text: string }) {
  const parts = text.split("/");
  return parts.map((part, index) => (
    <Fragment key={index}>
      {part}
      {index < parts.length - 1 && (
        <>
          /<wbr />
        </>
      )}
    </Fragment>
  ));
}

function EditLimitsForm({ apiKey, onDone }: { apiKey: Key; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [limitUsd, setLimitUsd] = useState(apiKey.spendLimitUsd ?? "");
  const [reset, setReset] = useState<string>(apiKey.limitReset ?? "");
  const [expires, setExpires] = useState(dateInputFromExpiry(apiKey.expiresAt));
  const [models, setModels] = useState<string[]>(apiKey.allowedModels ?? []);
  const [rates, setRates] = useState<RateLimitInputs>({
    requestsPerMinute: inputFromRate(apiKey.requestsPerMinute),
    tokensPerMinute: inputFromRate(apiKey.tokensPerMinute),
    concurrentRequests: inputFromRate(apiKey.concurrentRequests),
  });
  const update = useMutation(
    trpc.keys.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
        onDone();
      },
    }),
  );

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const limit = limitUsd.trim();
    update.mutate({
      id: apiKey.id,
      limitUsd: limit === "" ? null : limit,
      limitReset: limit === "" ? null : resetFromSelect(reset),
      // The date field cannot show a time of day: an untouched field keeps an expiry set to the second (CLI).
      expiresAt: expires === dateInputFromExpiry(apiKey.expiresAt) ? undefined : expiryFromDateInput(expires),
      allowedModels: sameModels(models, apiKey.allowedModels ?? []) ? undefined : models.length === 0 ? null : models,
      requestsPerMinute: rateFromInput(rates.requestsPerMinute),
      tokensPerMinute: rateFromInput(rates.tokensPerMinute),
      concurrentRequests: rateFromInput(rates.concurrentRequests),
    });
  }

  return (
    <form onSubmit={onSubmit} className="edit-limits" aria-label={`Limits of ${apiKey.name}`}>
      <KeyLimitFields
        limitUsd={limitUsd}
        setLimitUsd={setLimitUsd}
        reset={reset}
        setReset={setReset}
        expires={expires}
        setExpires={setExpires}
      />
      <ModelAllowlistField selected={models} onChange={setModels} />
      <RateLimitFields values={rates} onChange={setRates} />
      <p className="field__hint">Blank rate limits take the gateway&apos;s default.</p>
      {update.error !== null && (
        <p className="alert alert--error form-message" role="alert">
          {firstFieldError(update.error.data?.zodError?.fieldErrors) ?? update.error.message}
        </p>
      )}
      <div className="confirm__buttons form-message">
        <button type="submit" className="button button--primary small" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save limits"}
        </button>
        <button type="button" className="button button--ghost small" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
