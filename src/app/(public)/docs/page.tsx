import type { Metadata } from "next";
import { DocArticle } from "~/components/docs/doc-article";
import { DOC_PAGES } from "~/components/docs/doc-pages";

export const metadata: Metadata = { title: "Docs: quick start" };

export default function DocsHome() {
  return <DocArticle page={DOC_PAGES[0]!} />;
}
