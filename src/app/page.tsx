import Link from "next/link";
import { toCatalogEntry, type CatalogEntry } from "~/components/catalog/catalog-entry";
import { applyCatalogFilters, NO_FILTERS } from "~/components/catalog/catalog-filters";
import { formatTokenCount, formatUsd } from "~/components/ui/format";
import { PublicHeader } from "~/components/ui/public-header";
import { auth } from "~/server/auth";
import { requestContainer } from "~/server/request-container";
import { publicOrigin } from "~/server/public-origin";

const DEMO_MODEL = "tollgate/echo";

/** A short list of models with their prices, each linking to its page. */
function ModelShortlist({ title, entries }: { title: string; entries: CatalogEntry[] }) {
  if (entries.length === 0) return null;
  const headingId = `shortlist-${title.toLowerCase().replaceAll(" ", "-")}`;
  return (
    <section className="card shortlist" aria-labelledby={headingId}>
      <h2 className="card__title" id={headingId}>
        {title}
      </h2>
      <ul className="shortlist__items">
        {entries.map((entry) => (
          <li key={entry.id}>
            <Link href={`/models/${entry.id}`}>{entry.name}</Link>
            <span className="muted small">
              {formatUsd(entry.inputPerMillion)} in · {formatUsd(entry.outputPerMillion)} out per 1M tokens ·{" "}
              {formatTokenCount(entry.contextLength)} context
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export default async function HomePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { deleted } = await searchParams;
  const [session, origin, { gateway }] = await Promise.all([auth(), publicOrigin(), requestContainer()]);
  const entries = gateway.publicCatalog.list().map(toCatalogEntry);
  // The offline demo model is for trying the API, not a model to choose: it is shown below, not counted.
  const models = entries.filter((entry) => entry.id !== DEMO_MODEL);
  const chatModels = models.filter((entry) => entry.outputModalities.includes("text"));
  const providerCount = new Set(models.flatMap((entry) => entry.providers)).size;
  const cheapest = applyCatalogFilters(chatModels, { ...NO_FILTERS, sort: "price-asc" }).slice(0, 3);
  // The flagships: tools and reasoning, dearest output first (price follows capability), then the largest context.
  const mostCapable = chatModels
    .filter((entry) => entry.supportsTools && entry.supportsReasoning)
    .sort(
      (a, b) =>
        Number(b.outputPerMillion) - Number(a.outputPerMillion) ||
        b.contextLength - a.contextLength ||
        a.name.localeCompare(b.name),
    )
    .slice(0, 3);
  const curl = [
    `curl ${origin}/v1/chat/completions \\`,
    `  -H "Authorization: Bearer $TOLLGATE_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "${DEMO_MODEL}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
  ].join("\n");

  return (
    <>
      <PublicHeader />
      <main>
        <section className="hero">
          <div className="container">
            {deleted === "1" && (
              <p className="alert alert--info" role="status">
                Your account was deleted and its keys revoked. Thank you for using Tollgate.
              </p>
            )}
            <h1 className="hero__title">One API for every model.</h1>
            <p className="hero__lead">
              Tollgate is an OpenAI-compatible gateway to OpenAI, Anthropic, Google, DeepSeek and more. Point any OpenAI
              SDK at it, pay per token from a prepaid balance, and switch models by changing one string.
            </p>
            {models.length > 0 && (
              <p className="hero__stats" data-testid="catalog-counts">
                <Link href="/models">
                  <strong>{models.length}</strong> {models.length === 1 ? "model" : "models"}
                </Link>{" "}
                from <strong>{providerCount}</strong> {providerCount === 1 ? "provider" : "providers"}
                {cheapest[0] !== undefined && <>, from {formatUsd(cheapest[0].inputPerMillion)} per million tokens</>}
              </p>
            )}
            <div className="hero__actions">
              <Link href={session !== null ? "/keys" : "/sign-up"} className="button button--primary button--large">
                {session !== null ? "Manage your keys" : "Create an account"}
              </Link>
              <Link href="/docs" className="button button--secondary button--large">
                Read the docs
              </Link>
            </div>
          </div>
        </section>

        {(cheapest.length > 0 || mostCapable.length > 0) && (
          <div className="container shortlists">
            <ModelShortlist title="Cheapest" entries={cheapest} />
            <ModelShortlist title="Most capable" entries={mostCapable} />
          </div>
        )}

        <section className="container features">
          <div className="feature">
            <h2>OpenAI-compatible</h2>
            <p>
              <code>/v1/chat/completions</code>, Anthropic&apos;s <code>/v1/messages</code>, <code>/v1/responses</code>{" "}
              and <code>/v1/embeddings</code>, streaming included. Existing clients work unchanged.
            </p>
          </div>
          <div className="feature">
            <h2>Exact, prepaid billing</h2>
            <p>
              Every request is metered per token at the listed price, in integer nano-dollars: no rounding surprises.
            </p>
          </div>
          <div className="feature">
            <h2>Routing with fallbacks</h2>
            <p>Requests go to the best available provider for a model and fail over before the first byte.</p>
          </div>
        </section>

        <section className="container try">
          <h2>Try it</h2>
          <p className="muted">
            Create a key, then call the built-in <code>tollgate/echo</code> model. It runs offline, answers instantly,
            and is billed like any other model so you can watch metering work.
          </p>
          <pre className="code-block">
            <code>{curl}</code>
          </pre>
        </section>
      </main>
      <footer className="site-footer">
        <div className="container muted small">Tollgate: an OpenAI-compatible LLM API gateway.</div>
      </footer>
    </>
  );
}
