import Link from "next/link";
import { auth } from "~/server/auth";
import { NavLink } from "./nav-link";
import { SiteHeader } from "./site-header";

/** The header of pages anyone may see: the dashboard for the signed in, sign-in and sign-up for the rest. */
export async function PublicHeader() {
  const session = await auth();
  return (
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
  );
}
