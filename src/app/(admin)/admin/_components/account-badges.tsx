/** Admin, disabled, deleted; an ordinary live account shows "Active". */
export function AccountBadges(props: { role: string; disabledAt: Date | null; deletedAt: Date | null }) {
  const badges = [
    props.role === "admin" && (
      <span key="admin" className="badge badge--playground">
        Admin
      </span>
    ),
    props.deletedAt !== null && (
      <span key="deleted" className="badge badge--revoked">
        Deleted
      </span>
    ),
    props.disabledAt !== null && (
      <span key="disabled" className="badge badge--revoked">
        Disabled
      </span>
    ),
  ].filter(Boolean);
  return badges.length === 0 ? (
    <span className="badge badge--active">Active</span>
  ) : (
    <span className="badge-row">{badges}</span>
  );
}
