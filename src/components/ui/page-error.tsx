"use client";

import { useEffect } from "react";

/**
 * What a page shows when rendering it failed (the database unreachable, a bug): the reference to quote to support
 * and a way to try again, instead of Next's bare error screen. The details stay in the server log.
 */
export function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <section className="card page-error" role="alert" aria-labelledby="page-error-heading">
      <h1 id="page-error-heading" className="card__title">
        This page could not be loaded
      </h1>
      <p className="muted">
        Something went wrong on our side. Your balance and keys are safe; try again in a moment.
        {error.digest !== undefined && (
          <>
            {" "}
            If it keeps happening, quote <code>{error.digest}</code> to support.
          </>
        )}
      </p>
      <button type="button" className="button button--primary" onClick={reset}>
        Try again
      </button>
    </section>
  );
}

/** What a page shows while its data is read on the server. */
export function PageLoading() {
  return (
    <div className="page-loading" role="status" aria-live="polite">
      <span className="page-loading__bar" aria-hidden="true" />
      <span className="muted">Loading…</span>
    </div>
  );
}
