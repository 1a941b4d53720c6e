import type { Metadata } from "next";
import Link from "next/link";
import { formatDateTime, usdColumnFormat } from "~/components/ui/format";
import { api } from "~/trpc/server";
import { AccountBadges } from "../_components/account-badges";

export const metadata: Metadata = { title: "Users · Admin" };

const PAGE_SIZE = 50;

/** Accounts by email or id, newest first; a plain GET form, so searching works before any script has loaded. */
export default async function AdminUsersPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const query = typeof params.q === "string" ? params.q.trim() : "";
  const after = typeof params.after === "string" ? params.after : null;
  const page = await api.admin.users.list({ query, limit: PAGE_SIZE, cursor: after });
  const usd = usdColumnFormat(page.items.map((user) => user.balanceUsd));
  const next = new URLSearchParams({
    ...(query === "" ? {} : { q: query }),
    ...(page.nextCursor ? { after: page.nextCursor } : {}),
  });

  return (
    <>
      <div className="page-heading">
        <h1>Users</h1>
        <p className="muted">Find an account by email (any part of it) or by its id.</p>
      </div>
      <section className="card">
        <form method="get" className="inline-form" role="search">
          <label className="field inline-form__grow" htmlFor="user-search">
            <span className="field__label">Email or id</span>
            <input id="user-search" name="q" className="input" defaultValue={query} placeholder="jane@example.com" />
          </label>
          <button type="submit" className="button button--primary">
            Search
          </button>
        </form>
      </section>
      <section className="card" aria-labelledby="users-heading">
        <h2 id="users-heading" className="card__title">
          {query === "" ? "All accounts" : `Accounts matching “${query}”`}
        </h2>
        {page.items.length === 0 ? (
          <p className="muted">
            {query === "" ? "No accounts yet." : "No account matches. Try part of the email, or the exact id."}
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack" data-testid="admin-users">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Status</th>
                  <th scope="col">Signed up (UTC)</th>
                  <th scope="col" className="table__number">
                    Balance
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((user) => (
                  <tr key={user.id}>
                    <td data-label="Email">
                      <Link href={`/admin/users/${user.id}`}>{user.email}</Link>
                      {user.name && <span className="muted small"> · {user.name}</span>}
                    </td>
                    <td data-label="Status">
                      <AccountBadges role={user.role} disabledAt={user.disabledAt} deletedAt={user.deletedAt} />
                    </td>
                    <td data-label="Signed up (UTC)">{formatDateTime(user.createdAt)}</td>
                    <td data-label="Balance" className="table__number">
                      {usd(user.balanceUsd)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.nextCursor !== null && (
              <p className="table-note">
                <Link className="button button--secondary small" href={`/admin/users?${next.toString()}`}>
                  Next page
                </Link>
              </p>
            )}
          </div>
        )}
      </section>
    </>
  );
}
