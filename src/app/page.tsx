import Link from "next/link";
import { SiteHeader } from "~/components/ui/site-header";
import { auth } from "~/server/auth";
import { publicOrigin } from "~/server/public-origin";

export default async function HomePage() {
  const [session, origin] = await Promise.all([auth(), publicOrigin()]);
  const curl = [
    `curl ${origin}/v1/chat/completions \\`,
    `  -H "Authorization: Bearer $TOLLGATE_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "tollgate/echo", "messages": [{"role": "user", "content": "Hello!"}]}'`,
  ].join("\n");

  return (
    <>
      <SiteHeader>
        {session !== null ? (
          <Link href="/keys" className="button button--primary">
            Go to dashboard
          </Link>
        ) : (
          <>
            <Link href="/sign-in" className="nav-link">
              Sign in
            </Link>
            <Link href="/sign-up" className="button button--primary">
              Sign up
            </Link>
          </>
        )}
      </SiteHeader>
      <main>
        <section className="hero">
          <div className="container">
            <h1 className="hero__title">One API for every model.</h1>
            <p className="hero__lead">
              Tollgate is an OpenAI-compatible gateway to OpenAI, Anthropic, Google, DeepSeek and more. Point any OpenAI
              SDK at it, pay per token from a prepaid balance, and switch models by changing one string.
            </p>
            <div className="hero__actions">
              <Link href={session !== null ? "/keys" : "/sign-up"} className="button button--primary button--large">
                {session !== null ? "Manage your keys" : "Create an account"}
              </Link>
              {session === null && (
                <Link href="/sign-in" className="button button--secondary button--large">
                  Sign in
                </Link>
              )}
            </div>
          </div>
        </section>

        <section className="container features">
          <div className="feature">
            <h2>OpenAI-compatible</h2>
            <p>
              <code>/v1/chat/completions</code> and <code>/v1/models</code>, streaming included. Existing clients work
              unchanged.
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
