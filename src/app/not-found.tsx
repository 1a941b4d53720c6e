import Link from "next/link";
import { SiteHeader } from "~/components/ui/site-header";

export default function NotFound() {
  return (
    <>
      <SiteHeader />
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
