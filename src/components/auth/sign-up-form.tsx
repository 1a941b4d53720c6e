"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useState, useTransition, type FormEvent } from "react";
import { signInWithPassword } from "~/server/auth/actions";
import { useTRPC } from "~/trpc/react";

function textField(formData: FormData, name: string): string {
  const value = formData.get(name);
  return typeof value === "string" ? value : "";
}

export function SignUpForm() {
  const trpc = useTRPC();
  const signUp = useMutation(trpc.account.signUp.mutationOptions());
  const [signingIn, startSignIn] = useTransition();
  const [signInError, setSignInError] = useState<string | undefined>();

  const fieldErrors = signUp.error?.data?.zodError?.fieldErrors ?? {};
  const formError =
    signUp.error === null
      ? signInError
      : signUp.error.data?.code === "CONFLICT"
        ? "An account with this email already exists."
        : signUp.error.data?.zodError
          ? undefined
          : "Could not create the account. Please try again.";

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formData = new FormData(event.currentTarget);
    const name = textField(formData, "name").trim();
    setSignInError(undefined);
    signUp.mutate(
      {
        email: textField(formData, "email"),
        password: textField(formData, "password"),
        ...(name === "" ? {} : { name }),
      },
      {
        onSuccess: () => {
          // The account exists; sign in with the same credentials. Success redirects to /keys.
          startSignIn(async () => {
            const result = await signInWithPassword({}, formData);
            if (result.error !== undefined) setSignInError(`Account created, but signing in failed: ${result.error}`);
          });
        },
      },
    );
  }

  const busy = signUp.isPending || signingIn;
  return (
    <form onSubmit={onSubmit} className="form">
      {formError !== undefined && (
        <p className="alert alert--error" role="alert">
          {formError}
          {signUp.error?.data?.code === "CONFLICT" && (
            <>
              {" "}
              <Link href="/sign-in">Sign in instead</Link>
            </>
          )}
        </p>
      )}
      <label className="field">
        <span className="field__label">
          Name <span className="muted">(optional)</span>
        </span>
        <input name="name" type="text" autoComplete="name" maxLength={100} className="input" />
      </label>
      <label className="field">
        <span className="field__label">Email</span>
        <input name="email" type="email" autoComplete="email" required className="input" />
        {fieldErrors.email?.[0] !== undefined && <span className="field__error">{fieldErrors.email[0]}</span>}
      </label>
      <label className="field">
        <span className="field__label">Password</span>
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          maxLength={256}
          className="input"
        />
        <span className="field__hint">At least 8 characters.</span>
        {fieldErrors.password?.[0] !== undefined && <span className="field__error">{fieldErrors.password[0]}</span>}
      </label>
      <button type="submit" className="button button--primary button--block" disabled={busy}>
        {signUp.isPending ? "Creating account…" : signingIn ? "Signing in…" : "Create account"}
      </button>
      <p className="form__footer">
        Already have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </form>
  );
}
