"use server";

import { AuthError } from "next-auth";
import { getContainer } from "~/server/container";
import { findUserByEmail } from "~/server/services/users";
import { signIn, signOut } from "./index";
import { signInButtons } from "./oauth-providers";
import { DEFAULT_AFTER_SIGN_IN, safeReturnPath } from "./return-path";

export interface SignInState {
  error?: string;
  /** Echoed back so the form (which React resets after an action) keeps the email after a failed attempt. */
  email?: string;
}

/**
 * Form action for the Credentials provider. On success next-auth redirects (by throwing Next's redirect, which
 * must propagate); a failed check comes back as a message for the form.
 */
export async function signInWithPassword(_previous: SignInState, formData: FormData): Promise<SignInState> {
  const email = formData.get("email");
  const password = formData.get("password");
  if (typeof email !== "string" || typeof password !== "string" || email === "" || password === "") {
    return { error: "Enter your email and password.", email: typeof email === "string" ? email : "" };
  }
  try {
    const redirectTo = safeReturnPath(formData.get("next")) ?? DEFAULT_AFTER_SIGN_IN;
    await signIn("credentials", { email, password, redirectTo });
  } catch (error) {
    if (error instanceof AuthError) {
      return { error: await signInErrorMessage(error, email), email };
    }
    throw error;
  }
  return {};
}

async function signInErrorMessage(error: AuthError, email: string): Promise<string> {
  if (error.type !== "CredentialsSignin") return "Could not sign in. Please try again.";
  const code = "code" in error ? error.code : undefined;
  if (code === "throttled")
    return "Too many failed sign-ins for this account or from this network. Wait 15 minutes and try again.";
  if (code === "account_disabled") {
    // Raised only after the password was right: the reason is the account holder's to read.
    const user = await findUserByEmail((await getContainer()).db, email);
    const reason = user?.disabledReason ? ` (${user.disabledReason})` : "";
    return `This account is disabled${reason}. Contact support to have it enabled again.`;
  }
  return "Wrong email or password.";
}

/** Form action of the "Continue with …" buttons: off to the provider, then back to the page asked for. */
export async function signInWithProvider(formData: FormData): Promise<void> {
  const provider = formData.get("provider");
  const { env } = await getContainer();
  if (typeof provider !== "string" || !signInButtons(env).some((button) => button.id === provider)) return;
  await signIn(provider, { redirectTo: safeReturnPath(formData.get("next")) ?? DEFAULT_AFTER_SIGN_IN });
}

export async function signOutAndLeave(): Promise<void> {
  await signOut({ redirectTo: "/" });
}
