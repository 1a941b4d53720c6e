import type { ReactNode } from "react";
import { DOC_PAGES, docHref } from "~/components/docs/doc-pages";
import { DocsNav } from "~/components/docs/docs-nav";
import "./docs.css";

export default function DocsLayout({ children }: { children: ReactNode }) {
  return (
    <div className="docs">
      <DocsNav pages={DOC_PAGES.map((page) => ({ href: docHref(page), title: page.title }))} />
      {children}
    </div>
  );
}
