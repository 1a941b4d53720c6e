import type { Metadata } from "next";
import { SignInForm } from "~/components/auth/sign-in-form";
import { signInButtons } from "~/server/auth/oauth-providers";
import { safeReturnPath } from "~/server/auth/return-path";
import { requestContainer } from "~/server/request-container";

export const metadata: Metadata = { title: "Sign in" };

/**
 * Auth.js sends people here with `?error=` when a sign-in fails outside the form: a POST without JavaScript, or a
 * provider's sign-in refused (auth/oauth-sign-in.ts).
 */
const ERROR_MESSAGES: Record<string, string> = {
  CredentialsSignin: "Wrong email or password.",
  OAuthNoEmail: "Your provider did not tell us your email address, which your account needs.",
  EmailNotVerified: "Your provider has not confirmed your email address. Confirm it there, or sign in with a password.",
  ConfirmEmailFirst:
    "An account with a password uses this address, which was never confirmed. Sign in with the password and confirm the address on the Account page (or reset the password through the link we email you), then use your provider.",
  AccountDeleted: "This account was deleted.",
  AccountDisabled: "This account is disabled. Contact support to have it enabled again.",
  AccessDenied: "This sign-in was refused.",
};

function messageFor(error: string | string[] | undefined): string | undefined {
  if (error === undefined) return undefined;
  return (typeof error === "string" ? ERROR_MESSAGES[error] : undefined) ?? "Could not sign in. Please try again.";
}

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { error, next, changed } = await searchParams;
  return (
    <>
      <h1 className="auth-card__title">Sign in</h1>
      <p className="muted">Manage your API keys and balance.</p>
      {(changed === "password" || changed === "reset") && (
        <p className="alert alert--info" role="status">
          Your password was {changed === "reset" ? "reset" : "changed"} and every session ended: sign in with the new
          one.
        </p>
      )}
      <SignInForm
        initialError={messageFor(error)}
        returnTo={safeReturnPath(next)}
        providers={signInButtons((await requestContainer()).env)}
      />
    </>
  );
}
