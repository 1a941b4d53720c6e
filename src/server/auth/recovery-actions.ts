"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getContainer } from "~/server/container";
import { originFrom } from "~/server/public-origin";
import {
  confirmEmailChange,
  InvalidLinkError,
  requestPasswordReset,
  resetPassword,
  verifyEmail,
} from "~/server/services/email-links";
import { passwordSchema, UserExistsError } from "~/server/services/users";
import { clientAddress } from "./sign-in-throttle";

/*
 * Form actions of the pages that mailed links lead to, and of "Forgot your password?". None needs a session: the link's
 * token (or, for the request, nothing at all) is the proof.
 */

/** A text field of the form; "" when absent (or a file). */
function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

export interface RecoveryState {
  error?: string;
  /** What happened, for the page to say. */
  done?: string;
}

export async function requestPasswordResetAction(_previous: RecoveryState, form: FormData): Promise<RecoveryState> {
  const email = form.get("email");
  if (typeof email !== "string" || email.trim() === "") return { error: "Enter the email address you sign in with." };
  const container = await getContainer();
  const requestHeaders = await headers();
  const outcome = await requestPasswordReset(
    {
      db: container.db,
      mailer: container.mailer,
      logger: container.logger,
      origin: originFrom(container.env, requestHeaders),
      throttle: container.resetThrottle,
    },
    { email, ip: clientAddress(requestHeaders) },
  );
  if (outcome === "throttled") {
    return { error: "Too many reset requests for this address or from this network. Wait an hour and try again." };
  }
  return {
    done: `If an account uses ${email.trim()}, a link to choose a new password is on its way. It works for an hour.`,
  };
}

function linkError(error: unknown): RecoveryState {
  if (error instanceof InvalidLinkError) return { error: error.message };
  if (error instanceof UserExistsError) return { error: "Another account uses that address now." };
  throw error;
}

export async function resetPasswordAction(_previous: RecoveryState, form: FormData): Promise<RecoveryState> {
  const token = field(form, "token");
  const password = field(form, "password");
  if (password !== field(form, "confirm")) return { error: "The two passwords differ." };
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) return { error: parsed.error.issues[0]?.message ?? "Choose another password." };
  try {
    await resetPassword((await getContainer()).db, token, parsed.data);
  } catch (error) {
    return linkError(error);
  }
  redirect("/sign-in?changed=reset");
}

export async function verifyEmailAction(_previous: RecoveryState, form: FormData): Promise<RecoveryState> {
  try {
    const { email } = await verifyEmail((await getContainer()).db, field(form, "token"));
    return { done: `${email} is confirmed.` };
  } catch (error) {
    return linkError(error);
  }
}

export async function confirmEmailChangeAction(_previous: RecoveryState, form: FormData): Promise<RecoveryState> {
  try {
    const { email } = await confirmEmailChange((await getContainer()).db, field(form, "token"));
    return { done: `Your account now uses ${email}: sign in with it from now on.` };
  } catch (error) {
    return linkError(error);
  }
}
