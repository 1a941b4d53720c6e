import Link from "next/link";

/** What a mailed link that can no longer be used says, and where to go instead. */
export function DeadLink({ retry }: { retry: { href: string; label: string } }) {
  return (
    <div className="form">
      <p className="alert alert--error" role="alert">
        This link is no longer valid: it was used already, replaced by a newer one, or it expired.
      </p>
      <Link href={retry.href} className="button button--primary button--block">
        {retry.label}
      </Link>
    </div>
  );
}
