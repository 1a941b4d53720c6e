"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

export function KeyList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.keys.list.queryOptions());
  const [confirming, setConfirming] = useState<string | null>(null);
  const revoke = useMutation(
    trpc.keys.revoke.mutationOptions({
      onSettled: async () => {
        setConfirming(null);
        await queryClient.invalidateQueries({ queryKey: trpc.keys.list.queryKey() });
      },
    }),
  );

  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading" className="card__title">
        Your keys
      </h2>
      {revoke.error !== null && (
        <p className="alert alert--error" role="alert">
          {revoke.error.message}
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
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Last used (UTC)</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <tr key={key.id} className={key.revokedAt !== null ? "table__row--muted" : undefined}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>{formatDateTime(key.createdAt)}</td>
                  <td>
                    {key.lastUsedAt === null ? <span className="muted">Never</span> : formatDateTime(key.lastUsedAt)}
                  </td>
                  <td>
                    {key.revokedAt !== null ? (
                      <span className="badge badge--revoked" title={`Revoked ${formatDateTime(key.revokedAt)} UTC`}>
                        Revoked
                      </span>
                    ) : key.expiresAt !== null && key.expiresAt.getTime() <= Date.now() ? (
                      <span className="badge badge--revoked">Expired</span>
                    ) : (
                      <span className="badge badge--active">Active</span>
                    )}
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
                        <button
                          type="button"
                          className="button button--secondary small"
                          onClick={() => setConfirming(key.id)}
                        >
                          Revoke
                        </button>
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small table-note">
            Revoking takes effect immediately and cannot be undone: requests with the key are refused from then on.
          </p>
        </div>
      )}
    </section>
  );
}
