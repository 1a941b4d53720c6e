"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

/** The account's current password, asked for to confirm a change. */
function CurrentPasswordField(props: { label: string; value: string; onChange: (value: string) => void }) {
  return (
    <label className="field">
      <span className="field__label">{props.label}</span>
      <input
        className="input"
        type="password"
        autoComplete="current-password"
        required
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </label>
  );
}

/** Where to go once the sessions are over: this one ended with them. */
function leaveTo(path: string): void {
  window.location.assign(path);
}

function ErrorLine({ error }: { error: { message: string } | null }) {
  if (error === null) return null;
  return (
    <p className="alert alert--error" role="alert">
      {error.message}
    </p>
  );
}

function ProfileCard({ name }: { name: string | null }) {
  const trpc = useTRPC();
  const [value, setValue] = useState(name ?? "");
  const rename = useMutation(trpc.account.rename.mutationOptions());
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    rename.mutate({ name: value });
  }
  return (
    <section className="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading" className="card__title">
        Profile
      </h2>
      <form className="form form--tight" onSubmit={onSubmit}>
        <label className="field">
          <span className="field__label">Name</span>
          <input
            className="input"
            name="name"
            autoComplete="name"
            maxLength={100}
            value={value}
            onChange={(event) => setValue(event.target.value)}
          />
        </label>
        <ErrorLine error={rename.error} />
        {rename.isSuccess && (
          <p className="alert alert--success" role="status">
            Saved.
          </p>
        )}
        <button type="submit" className="button button--primary" disabled={rename.isPending}>
          {rename.isPending ? "Saving…" : "Save"}
        </button>
      </form>
    </section>
  );
}

/** An account made through a provider has no password; it gets one through a mailed link, as a forgotten one. */
function SetPasswordCard() {
  const trpc = useTRPC();
  const send = useMutation(trpc.account.sendPasswordLink.mutationOptions());
  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading" className="card__title">
        Password
      </h2>
      <p className="muted">
        You sign in through your provider. To sign in with a password as well, we email you a link to choose one.
      </p>
      <ErrorLine error={send.error} />
      {send.isSuccess ? (
        <p className="alert alert--success" role="status">
          A link to choose a password is on its way. It works for an hour.
        </p>
      ) : (
        <button
          type="button"
          className="button button--secondary"
          onClick={() => send.mutate()}
          disabled={send.isPending}
        >
          Email me a link to set a password
        </button>
      )}
    </section>
  );
}

function PasswordCard() {
  const trpc = useTRPC();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useMutation(
    trpc.account.changePassword.mutationOptions({ onSuccess: () => leaveTo("/sign-in?changed=password") }),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    change.mutate({ current, next });
  }
  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading" className="card__title">
        Password
      </h2>
      <form className="form form--tight" onSubmit={onSubmit}>
        <CurrentPasswordField label="Current password" value={current} onChange={setCurrent} />
        <label className="field">
          <span className="field__label">New password</span>
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={next}
            onChange={(event) => setNext(event.target.value)}
          />
          <span className="field__hint">
            At least 8 characters. Every session ends: sign in again with the new one.
          </span>
        </label>
        <ErrorLine error={change.error} />
        <button type="submit" className="button button--primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </button>
      </form>
    </section>
  );
}

function SessionsCard() {
  const trpc = useTRPC();
  const end = useMutation(trpc.account.endAllSessions.mutationOptions({ onSuccess: () => leaveTo("/sign-in") }));
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading" className="card__title">
        Sessions
      </h2>
      <p className="muted">
        Signed in on a computer you no longer use? Sign out of every browser at once, this one included. API keys keep
        working: revoke those on the API keys page.
      </p>
      <ErrorLine error={end.error} />
      <button type="button" className="button button--secondary" disabled={end.isPending} onClick={() => end.mutate()}>
        Sign out everywhere
      </button>
    </section>
  );
}

function DeleteCard() {
  const trpc = useTRPC();
  const summary = useQuery(trpc.account.deletionSummary.queryOptions());
  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState("");
  const remove = useMutation(trpc.account.delete.mutationOptions({ onSuccess: () => leaveTo("/?deleted=1") }));
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    remove.mutate({ password });
  }
  return (
    <section className="card" aria-labelledby="delete-heading">
      <h2 id="delete-heading" className="card__title">
        Delete account
      </h2>
      {summary.data === undefined ? (
        <p className="muted">{summary.error?.message ?? "Loading…"}</p>
      ) : (
        <p data-testid="deletion-summary">
          Your remaining balance of <strong>{formatUsd(summary.data.balanceUsd)}</strong> will no longer be usable, and{" "}
          {summary.data.activeKeys === 1
            ? "your 1 key is revoked"
            : `your ${summary.data.activeKeys} keys (disabled ones included) are revoked`}{" "}
          at once. Your usage history and billing records are kept. This cannot be undone.
        </p>
      )}
      {!confirming ? (
        <button type="button" className="button button--danger" onClick={() => setConfirming(true)}>
          Delete my account…
        </button>
      ) : (
        <form className="form form--tight" onSubmit={onSubmit}>
          <CurrentPasswordField label="Your password, to confirm" value={password} onChange={setPassword} />
          <ErrorLine error={remove.error} />
          <div className="confirm__buttons">
            <button type="submit" className="button button--danger" disabled={remove.isPending}>
              {remove.isPending ? "Deleting…" : "Delete my account for good"}
            </button>
            <button type="button" className="button button--secondary" onClick={() => setConfirming(false)}>
              Keep my account
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/** The sign-in address: confirmed or not (a new link on request), and moving to another one through a mailed link. */
function EmailCard({ email, verified, hasPassword }: { email: string; verified: boolean; hasPassword: boolean }) {
  const trpc = useTRPC();
  const [newEmail, setNewEmail] = useState("");
  const [password, setPassword] = useState("");
  const resend = useMutation(trpc.account.sendVerification.mutationOptions());
  const change = useMutation(trpc.account.requestEmailChange.mutationOptions());
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    change.mutate({ newEmail, password });
  }
  return (
    <section className="card" aria-labelledby="email-heading">
      <h2 id="email-heading" className="card__title">
        Email
      </h2>
      <p>
        <span data-testid="account-email">{email}</span>{" "}
        {verified ? (
          <span className="badge badge--active">Confirmed</span>
        ) : (
          <span className="badge badge--revoked">Not confirmed</span>
        )}
      </p>
      {!verified && (
        <>
          <p className="muted small">
            Confirm it to be able to sign in with your company or Google account under the same address.
          </p>
          <button
            type="button"
            className="button button--secondary"
            onClick={() => resend.mutate()}
            disabled={resend.isPending || resend.isSuccess}
          >
            {resend.isSuccess ? "Link sent: check your mail" : "Send a confirmation link"}
          </button>
          <ErrorLine error={resend.error} />
        </>
      )}
      <form className="form form--tight" onSubmit={onSubmit}>
        <label className="field">
          <span className="field__label">New email address</span>
          <input
            className="input"
            type="email"
            autoComplete="email"
            required
            value={newEmail}
            onChange={(event) => setNewEmail(event.target.value)}
          />
        </label>
        {hasPassword && (
          <CurrentPasswordField label="Current password, to confirm" value={password} onChange={setPassword} />
        )}
        <ErrorLine error={change.error} />
        {change.isSuccess && (
          <p className="alert alert--success" role="status">
            We sent a link to {change.data.sentTo}. Your address changes when you follow it; until then, sign in with{" "}
            {email}.
          </p>
        )}
        <button type="submit" className="button button--primary" disabled={change.isPending}>
          {change.isPending ? "Sending…" : "Change email"}
        </button>
      </form>
    </section>
  );
}

export function AccountSettings(props: {
  email: string;
  name: string | null;
  emailVerified: boolean;
  hasPassword: boolean;
}) {
  return (
    <div className="account-settings">
      <ProfileCard name={props.name} />
      <EmailCard email={props.email} verified={props.emailVerified} hasPassword={props.hasPassword} />
      {props.hasPassword ? <PasswordCard /> : <SetPasswordCard />}
      <SessionsCard />
      <DeleteCard />
    </div>
  );
}
