"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** The docs' table of contents, marking the page being read. */
export function DocsNav({ pages }: { pages: { href: string; title: string }[] }) {
  const pathname = usePathname();
  return (
    <nav className="docs-nav" aria-label="Docs">
      <ul>
        {pages.map((page) => {
          const current = pathname === page.href;
          return (
            <li key={page.href}>
              <Link
                href={page.href}
                className={current ? "docs-nav__link docs-nav__link--current" : "docs-nav__link"}
                aria-current={current ? "page" : undefined}
              >
                {page.title}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
