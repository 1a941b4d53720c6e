import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { DocArticle } from "~/components/docs/doc-article";
import { findDocPage } from "~/components/docs/doc-pages";

type Params = Promise<{ slug: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const page = findDocPage((await params).slug);
  return { title: page === undefined ? "Docs" : `Docs: ${page.title}`, description: page?.summary };
}

export default async function DocsPage({ params }: { params: Params }) {
  const { slug } = await params;
  const page = slug === "" ? undefined : findDocPage(slug);
  if (page === undefined) notFound();
  return <DocArticle page={page} />;
}
