import type { Metadata } from "next";
import { SignInForm } from "~/components/auth/sign-in-form";
import { safeReturnPath } from "~/server/auth/return-path";

export const metadata: Metadata = { title: "Sign in" };

/** Auth.js sends people here with `?error=` when a sign-in fails outside the form (e.g. a POST without JavaScript). */
function messageFor(error: string | string[] | undefined): string | undefined {
  if (error === undefined) return undefined;
  return error === "CredentialsSignin" ? "Wrong email or password." : "Could not sign in. Please try again.";
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
      {changed === "password" && (
        <p className="alert alert--info" role="status">
          Your password was changed and every session ended: sign in with the new one.
        </p>
      )}
      <SignInForm initialError={messageFor(error)} returnTo={safeReturnPath(next)} />
    </>
  );
}
