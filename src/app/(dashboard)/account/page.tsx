import type { Metadata } from "next";
import { api } from "~/trpc/server";
import { AccountSettings } from "./_components/account-settings";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const me = await api.account.me();
  return (
    <>
      <div className="page-heading">
        <h1>Account</h1>
        <p className="muted">Your name, email, password and sessions, and closing the account.</p>
      </div>
      <AccountSettings
        email={me.email}
        name={me.name}
        emailVerified={me.emailVerified !== null}
        hasPassword={me.hasPassword}
      />
    </>
  );
}
