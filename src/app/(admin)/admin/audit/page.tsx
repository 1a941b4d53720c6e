import type { Metadata } from "next";
import Link from "next/link";
import { formatDateTime } from "~/components/ui/format";
import { dayParam, keptParams, textParam, type SearchParams } from "../_components/search-params";
import { FilterTail } from "../_components/filter-tail";
import { api } from "~/trpc/server";

export const metadata: Metadata = { title: "Audit log · Admin" };

const PAGE_SIZE = 50;

/** The subjects an action can be filtered by; each covers all its verbs (`channel` → create, update, test…). */
const SUBJECTS = [
  ["user", "Accounts created"],
  ["account", "Accounts"],
  ["credits", "Credits"],
  ["key", "Keys"],
  ["channel", "Channels"],
  ["endpoint", "Endpoints and prices"],
  ["model", "Models"],
  ["catalog", "Catalog imports"],
  ["promo-code", "Promo codes"],
] as const;

/** Every admin action, newest first, filtered by a plain GET form (links to a filtered view can be shared). */
export default async function AdminAuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const filter = {
    action: textParam(params, "action"),
    actor: textParam(params, "actor"),
    target: textParam(params, "target"),
    from: dayParam(textParam(params, "from")),
    to: dayParam(textParam(params, "to"), true),
  };
  const before = Number(textParam(params, "before"));
  const page = await api.admin.audit.list({
    ...filter,
    limit: PAGE_SIZE,
    cursor: Number.isSafeInteger(before) && before > 0 ? before : null,
  });
  const kept = keptParams(params, ["action", "actor", "target", "from", "to"]);
  const filtered = Object.keys(kept).length > 0;

  return (
    <>
      <div className="page-heading">
        <h1>Audit log</h1>
        <p className="muted">
          Every change made by an admin, from this console, the CLI or the server itself, with what it was before and
          after. Append-only; secrets never appear.
        </p>
      </div>
      <section className="card">
        <form method="get" className="filter-form" role="search" aria-label="Filter the audit log">
          <label className="field" htmlFor="audit-action">
            <span className="field__label">Action</span>
            <select id="audit-action" name="action" className="input" defaultValue={kept.action ?? ""}>
              <option value="">All actions</option>
              {SUBJECTS.map(([subject, label]) => (
                <option key={subject} value={subject}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label className="field" htmlFor="audit-actor">
            <span className="field__label">Actor</span>
            <input
              id="audit-actor"
              name="actor"
              className="input"
              placeholder="email or cli:"
              defaultValue={kept.actor}
            />
          </label>
          <label className="field" htmlFor="audit-target">
            <span className="field__label">Target</span>
            <input
              id="audit-target"
              name="target"
              className="input"
              placeholder="email, channel, model or id"
              defaultValue={kept.target}
            />
          </label>
          <FilterTail idPrefix="audit" from={kept.from} to={kept.to} filtered={filtered} clearHref="/admin/audit" />
        </form>
      </section>
      <section className="card" aria-labelledby="audit-heading">
        <h2 id="audit-heading" className="card__title">
          {filtered ? "Matching actions" : "Latest actions"}
        </h2>
        {page.items.length === 0 ? (
          <p className="muted">{filtered ? "Nothing matches these filters." : "No admin action yet."}</p>
        ) : (
          <div className="table-wrap">
            <table className="table table--stack table--wrap audit-table" data-testid="audit-log">
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((entry) => (
                  <tr key={entry.id}>
                    <td data-label="When (UTC)">{formatDateTime(entry.at)}</td>
                    <td data-label="Who">
                      {entry.actor}
                      <span className="muted small"> · {entry.via}</span>
                    </td>
                    <td data-label="Action">
                      <code>{entry.action}</code>
                    </td>
                    <td data-label="Target">
                      {entry.targetType === "user" ? (
                        <Link href={`/admin/users/${entry.targetId}`}>{entry.targetLabel ?? entry.targetId}</Link>
                      ) : (
                        (entry.targetLabel ?? entry.targetId)
                      )}
                      <span className="muted small"> · {entry.targetType}</span>
                    </td>
                    <td data-label="Change" className="audit-change">
                      <ChangeSummary before={entry.before} after={entry.after} />
                      {entry.note && <div className="muted small">“{entry.note}”</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.nextCursor !== null && (
              <p className="table-note">
                <Link
                  className="button button--secondary small"
                  href={`/admin/audit?${new URLSearchParams({ ...kept, before: String(page.nextCursor) }).toString()}`}
                >
                  Older
                </Link>
              </p>
            )}
          </div>
        )}
      </section>
    </>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Each field the action touched: `field: before → after` (or just the value set, for a creation). */
function ChangeSummary({ before, after }: { before: unknown; after: unknown }) {
  const was = (before ?? {}) as Record<string, unknown>;
  const now = (after ?? {}) as Record<string, unknown>;
  // A creation lists what it set: its empty fields say nothing.
  const fields = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter(
    (field) => field in was || (now[field] !== null && now[field] !== undefined),
  );
  if (fields.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="change-list">
      {fields.map((field) => (
        <li key={field}>
          <span className="muted">{field}:</span>{" "}
          {field in was && (
            <>
              <s className="change-list__before">{show(was[field])}</s> →{" "}
            </>
          )}
          <span>{show(now[field])}</span>
        </li>
      ))}
    </ul>
  );
}
