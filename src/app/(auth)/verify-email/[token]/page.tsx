import type { Metadata } from "next";
import { DeadLink } from "~/components/auth/dead-link";
import { ConfirmLinkForm } from "~/components/auth/recovery-forms";
import { requestContainer } from "~/server/request-container";
import { isLinkUsable } from "~/server/services/email-links";

export const metadata: Metadata = { title: "Confirm your email address" };

export default async function VerifyEmailPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const usable = await isLinkUsable((await requestContainer()).db, token, "verify_email");
  return (
    <>
      <h1 className="auth-card__title">Confirm your email address</h1>
      {usable ? (
        <ConfirmLinkForm token={token} kind="verify" label="Confirm my email address" />
      ) : (
        <DeadLink retry={{ href: "/account", label: "Send a new link from your account" }} />
      )}
    </>
  );
}
