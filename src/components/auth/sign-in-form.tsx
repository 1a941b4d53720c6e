"use client";

import Link from "next/link";
import { useActionState } from "react";
import { signInWithPassword, signInWithProvider, type SignInState } from "~/server/auth/actions";
import type { SignInButton } from "~/server/auth/oauth-providers";

/** `returnTo`: the page the visitor asked for before being sent to sign in (checked again by the action). */
export function SignInForm({
  initialError,
  returnTo,
  providers = [],
}: {
  initialError?: string | undefined;
  returnTo?: string | null;
  /** The configured providers (GitHub, Google, the company's single sign-on), a button each. */
  providers?: SignInButton[];
}) {
  const [state, formAction, pending] = useActionState<SignInState, FormData>(
    signInWithPassword,
    initialError === undefined ? {} : { error: initialError },
  );
  return (
    <>
      {providers.length > 0 && (
        <div className="provider-sign-in">
          {providers.map((provider) => (
            <form key={provider.id} action={signInWithProvider}>
              <input type="hidden" name="provider" value={provider.id} />
              {returnTo != null && <input type="hidden" name="next" value={returnTo} />}
              <button type="submit" className="button button--secondary button--block">
                Continue with {provider.name}
              </button>
            </form>
          ))}
          <p className="provider-sign-in__or muted small">or with your email and password</p>
        </div>
      )}
      <PasswordForm state={state} formAction={formAction} pending={pending} returnTo={returnTo} />
    </>
  );
}

function PasswordForm({
  state,
  formAction,
  pending,
  returnTo,
}: {
  state: SignInState;
  formAction: (form: FormData) => void;
  pending: boolean;
  returnTo: string | null | undefined;
}) {
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
        <span className="field__hint">
          <Link href="/forgot-password">Forgot your password?</Link>
        </span>
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
