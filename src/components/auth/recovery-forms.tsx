"use client";

import Link from "next/link";
import { useActionState } from "react";
import {
  confirmEmailChangeAction,
  requestPasswordResetAction,
  resetPasswordAction,
  verifyEmailAction,
  type RecoveryState,
} from "~/server/auth/recovery-actions";

function Outcome({ state }: { state: RecoveryState }) {
  if (state.error !== undefined) {
    return (
      <p className="alert alert--error" role="alert">
        {state.error}
      </p>
    );
  }
  if (state.done !== undefined) {
    return (
      <p className="alert alert--success" role="status">
        {state.done}
      </p>
    );
  }
  return null;
}

export function ForgotPasswordForm() {
  const [state, action, pending] = useActionState<RecoveryState, FormData>(requestPasswordResetAction, {});
  return (
    <form action={action} className="form">
      <Outcome state={state} />
      <label className="field">
        <span className="field__label">Email</span>
        <input name="email" type="email" autoComplete="email" required className="input" />
      </label>
      <button type="submit" className="button button--primary button--block" disabled={pending}>
        {pending ? "Sending…" : "Send me a link"}
      </button>
      <p className="form__footer">
        Remembered it? <Link href="/sign-in">Sign in</Link>
      </p>
    </form>
  );
}

export function ResetPasswordForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState<RecoveryState, FormData>(resetPasswordAction, {});
  return (
    <form action={action} className="form">
      <input type="hidden" name="token" value={token} />
      <Outcome state={state} />
      <div className="field">
        <label className="field__label" htmlFor="reset-password">
          New password
        </label>
        <input
          id="reset-password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          className="input"
          aria-describedby="reset-password-hint"
        />
        <span id="reset-password-hint" className="field__hint">
          At least 8 characters.
        </span>
      </div>
      <label className="field">
        <span className="field__label">New password again</span>
        <input name="confirm" type="password" autoComplete="new-password" minLength={8} required className="input" />
      </label>
      <button type="submit" className="button button--primary button--block" disabled={pending}>
        {pending ? "Saving…" : "Set the new password"}
      </button>
    </form>
  );
}

const CONFIRM_ACTIONS = { verify: verifyEmailAction, change: confirmEmailChangeAction };

/** One button: mail scanners open links, but they do not press buttons, so nothing changes until a person does. */
export function ConfirmLinkForm({ token, kind, label }: { token: string; kind: "verify" | "change"; label: string }) {
  const [state, action, pending] = useActionState<RecoveryState, FormData>(CONFIRM_ACTIONS[kind], {});
  if (state.done !== undefined) {
    return (
      <div className="form">
        <Outcome state={state} />
        <Link href="/account" className="button button--primary button--block">
          Go to your account
        </Link>
      </div>
    );
  }
  return (
    <form action={action} className="form">
      <input type="hidden" name="token" value={token} />
      <Outcome state={state} />
      <button type="submit" className="button button--primary button--block" disabled={pending}>
        {pending ? "Confirming…" : label}
      </button>
    </form>
  );
}
