import { TRPCError } from "@trpc/server";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { SignOutButton } from "~/components/dashboard/sign-out-button";
import { NavLink } from "~/components/ui/nav-link";
import { SiteHeader } from "~/components/ui/site-header";
import { auth } from "~/server/auth";
import { api } from "~/trpc/server";
import "./admin.css";

/**
 * The operator's console. Anyone but an admin (signed out included) gets the site's 404, as if there were nothing
 * here; the role is read from the database, not the session token, and every procedure checks it again.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  if (session === null) notFound();
  const me = await api.account.me().catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "UNAUTHORIZED") return null;
    throw error;
  });
  if (me?.role !== "admin") notFound();

  return (
    <>
      <SiteHeader>
        <span className="admin-badge">Admin</span>
        <NavLink href="/admin/overview">Overview</NavLink>
        <NavLink href="/admin/channels">Channels</NavLink>
        <NavLink href="/admin/models">Models</NavLink>
        <NavLink href="/admin/users">Users</NavLink>
        <NavLink href="/admin/money">Money</NavLink>
        <NavLink href="/admin/requests">Requests</NavLink>
        <NavLink href="/admin/audit">Audit log</NavLink>
        <NavLink href="/activity">Dashboard</NavLink>
        <span className="muted small nav-user">{me.email}</span>
        <SignOutButton />
      </SiteHeader>
      <main className="container dashboard-main admin-main">{children}</main>
    </>
  );
}
