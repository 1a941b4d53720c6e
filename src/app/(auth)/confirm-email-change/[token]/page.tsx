import type { Metadata } from "next";
import { DeadLink } from "~/components/auth/dead-link";
import { ConfirmLinkForm } from "~/components/auth/recovery-forms";
import { requestContainer } from "~/server/request-container";
import { isLinkUsable } from "~/server/services/email-links";

export const metadata: Metadata = { title: "Confirm your new email address" };

export default async function ConfirmEmailChangePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const usable = await isLinkUsable((await requestContainer()).db, token, "change_email");
  return (
    <>
      <h1 className="auth-card__title">Confirm your new email address</h1>
      {usable ? (
        <ConfirmLinkForm token={token} kind="change" label="Use this address from now on" />
      ) : (
        <DeadLink retry={{ href: "/account", label: "Ask again from your account" }} />
      )}
    </>
  );
}
