"use client";

import Link from "next/link";
import { useActionState } from "react";
import { signInWithPassword, type SignInState } from "~/server/auth/actions";

/** `returnTo`: the page the visitor asked for before being sent to sign in (checked again by the action). */
export function SignInForm({
  initialError,
  returnTo,
}: {
  initialError?: string | undefined;
  returnTo?: string | null;
}) {
  const [state, formAction, pending] = useActionState<SignInState, FormData>(
    signInWithPassword,
    initialError === undefined ? {} : { error: initialError },
  );
  return (
    <form action={formAction} className="form">
      {returnTo != null && <input type="hidden" name="next" value={returnTo} />}
      {state.error !== undefined && (
        <p className="alert alert--error" role="alert">
          {state.error}
        </p>
      )}
      <label className="field">
        <span className="field__label">Email</span>
        <input name="email" type="email" autoComplete="email" required className="input" defaultValue={state.email} />
      </label>
      <label className="field">
        <span className="field__label">Password</span>
        <input name="password" type="password" autoComplete="current-password" required className="input" />
      </label>
      <button type="submit" className="button button--primary button--block" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
      <p className="form__footer">
        New to Tollgate? <Link href="/sign-up">Create an account</Link>
      </p>
    </form>
  );
}
