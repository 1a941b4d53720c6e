import Link from "next/link";
import { toCatalogEntry } from "~/components/catalog/catalog-entry";
import { CodeSamples } from "~/components/ui/code-samples";
import { requestContainer } from "~/server/request-container";
import { publicOrigin } from "~/server/public-origin";
import { DOC_PAGES, docHref, type DocPage } from "./doc-pages";
import { snippetContextFor } from "./snippet-context";
import { renderSnippets, type SnippetTopic } from "./snippets";
import { YourKeys } from "./your-keys";

/** One docs page: its text, its samples rendered for this deployment's address and models, and the pages around it. */
export async function DocArticle({ page }: { page: DocPage }) {
  const [{ gateway }, origin] = await Promise.all([requestContainer(), publicOrigin()]);
  const baseUrl = `${origin}/v1`;
  const entries = gateway.publicCatalog.list().map(toCatalogEntry);
  const samples = (topic: SnippetTopic) => (
    <CodeSamples samples={renderSnippets(topic, snippetContextFor(topic, entries, baseUrl))} />
  );
  const index = DOC_PAGES.indexOf(page);
  const previous = DOC_PAGES[index - 1];
  const next = DOC_PAGES[index + 1];
  return (
    <article className="docs-article">
      <div className="page-heading">
        <h1>{page.title}</h1>
        <p className="muted">{page.summary}</p>
      </div>
      {page.slug === "" && <YourKeys />}
      <page.Body samples={samples} baseUrl={baseUrl} />
      <nav className="docs-pager" aria-label="Previous and next page">
        {previous !== undefined ? <Link href={docHref(previous)}>← {previous.title}</Link> : <span />}
        {next !== undefined && <Link href={docHref(next)}>{next.title} →</Link>}
      </nav>
    </article>
  );
}
