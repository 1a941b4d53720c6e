import Link from "next/link";
import { PublicHeader } from "~/components/ui/public-header";

/** Keeps the site's header (signed in or not), so a wrong address is one click from anywhere. */
export default function NotFound() {
  return (
    <>
      <PublicHeader />
      <main className="auth-main">
        <div className="card auth-card">
          <h1 className="auth-card__title">Page not found</h1>
          <p className="muted">There is nothing at this address.</p>
          <Link href="/" className="button button--primary">
            Back to Tollgate
          </Link>
        </div>
      </main>
    </>
  );
}
