import type { Metadata } from "next";
import { DeadLink } from "~/components/auth/dead-link";
import { ResetPasswordForm } from "~/components/auth/recovery-forms";
import { requestContainer } from "~/server/request-container";
import { isLinkUsable } from "~/server/services/email-links";

export const metadata: Metadata = { title: "Choose a new password" };

export default async function ResetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const usable = await isLinkUsable((await requestContainer()).db, token, "password_reset");
  return (
    <>
      <h1 className="auth-card__title">Choose a new password</h1>
      {usable ? (
        <>
          <p className="muted">Every browser signed in to your account will be signed out.</p>
          <ResetPasswordForm token={token} />
        </>
      ) : (
        <DeadLink retry={{ href: "/forgot-password", label: "Send a new link" }} />
      )}
    </>
  );
}
