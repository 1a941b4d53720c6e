import Link from "next/link";
import type { ReactNode } from "react";

/** The bar at the top of every page: the name on the left, whatever the page needs on the right. */
export function SiteHeader({ children }: { children?: ReactNode }) {
  return (
    <header className="site-header">
      <div className="container site-header__inner">
        <Link href="/" className="brand">
          <span className="brand__mark" aria-hidden="true">
            T
          </span>
          Tollgate
        </Link>
        <nav className="site-header__nav">{children}</nav>
      </div>
    </header>
  );
}
