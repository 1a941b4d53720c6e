import Link from "next/link";
import type { ReactNode } from "react";
import { NavLink } from "~/components/ui/nav-link";
import { SiteHeader } from "~/components/ui/site-header";
import { auth } from "~/server/auth";

/** Pages anyone may read (the model catalog): the header offers the dashboard to the signed in, sign-in to the rest. */
export default async function PublicLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  return (
    <>
      <SiteHeader>
        <NavLink href="/models">Models</NavLink>
        <NavLink href="/docs">Docs</NavLink>
        {session !== null ? (
          <Link href="/activity" className="button button--primary">
            Dashboard
          </Link>
        ) : (
          <>
            <NavLink href="/sign-in">Sign in</NavLink>
            <Link href="/sign-up" className="button button--primary">
              Sign up
            </Link>
          </>
        )}
      </SiteHeader>
      <main className="container public-main">{children}</main>
    </>
  );
}
