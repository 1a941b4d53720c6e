"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";

/** A header link that marks itself as the current page (for the eye and for screen readers) on its own path and below. */
export function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const pathname = usePathname();
  const current = pathname === href || pathname.startsWith(`${href}/`);
  return (
    <Link
      href={href}
      className={current ? "nav-link nav-link--current" : "nav-link"}
      aria-current={current ? "page" : undefined}
    >
      {children}
    </Link>
  );
}
