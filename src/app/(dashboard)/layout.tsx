import { TRPCError } from "@trpc/server";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { SignOutButton } from "~/components/dashboard/sign-out-button";
import { NavLink } from "~/components/ui/nav-link";
import { SiteHeader } from "~/components/ui/site-header";
import { auth } from "~/server/auth";
import { REQUEST_PATH_HEADER, signInPathFor } from "~/server/auth/return-path";
import { api } from "~/trpc/server";

/** The real guard for every dashboard page (tRPC procedures guard the data again). */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  const signIn = signInPathFor((await headers()).get(REQUEST_PATH_HEADER));
  if (session === null) redirect(signIn);
  // A token can outlive its user (deleted from the CLI); treat that as signed out.
  const me = await api.account.me().catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "UNAUTHORIZED") return null;
    throw error;
  });
  if (me === null) redirect(signIn);

  return (
    <>
      <SiteHeader>
        <NavLink href="/models">Models</NavLink>
        <NavLink href="/docs">Docs</NavLink>
        <NavLink href="/playground">Playground</NavLink>
        <NavLink href="/activity">Activity</NavLink>
        <NavLink href="/keys">API keys</NavLink>
        <NavLink href="/billing">Billing</NavLink>
        <NavLink href="/account">Account</NavLink>
        {me.role === "admin" && <NavLink href="/admin/overview">Admin</NavLink>}
        <span className="muted small nav-user">{me.email}</span>
        <SignOutButton />
      </SiteHeader>
      <main className="container dashboard-main">{children}</main>
    </>
  );
}
