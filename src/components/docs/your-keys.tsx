import Link from "next/link";
import { auth } from "~/server/auth";
import { api } from "~/trpc/server";

/**
 * On the quick start: a signed-in reader's active keys (names and prefixes: a key is shown in full only once, when
 * it is created), or where to get one.
 */
export async function YourKeys() {
  const session = await auth();
  if (session === null) {
    return (
      <p className="card docs-keys">
        You need a key: <Link href="/sign-up">create an account</Link> or <Link href="/sign-in">sign in</Link>, then
        create one on the API keys page.
      </p>
    );
  }
  const keys = (await api.keys.list().catch(() => [])).filter((key) => key.status === "active");
  return (
    <section className="card docs-keys" aria-labelledby="your-keys-heading">
      <h2 className="card__title" id="your-keys-heading">
        Your keys
      </h2>
      {keys.length === 0 ? (
        <p>
          You have no active key yet. <Link href="/keys">Create one</Link> and set it as <code>TOLLGATE_API_KEY</code>.
        </p>
      ) : (
        <>
          <p className="muted small">
            A key is shown in full only when it is created: set the one you saved as <code>TOLLGATE_API_KEY</code>, or{" "}
            <Link href="/keys">create a new one</Link>.
          </p>
          <ul className="chip-list">
            {keys.map((key) => (
              <li key={key.id} className="chip">
                {key.name} <code>{key.prefix}…</code>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
