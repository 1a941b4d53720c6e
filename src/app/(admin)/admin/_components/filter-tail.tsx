import Link from "next/link";

/**
 * The end of a GET filter form: a UTC date range (`from`, `to`, the `to` day included) and the buttons; "Clear" goes
 * back to `clearHref` while anything is filtered.
 */
export function FilterTail(props: {
  idPrefix: string;
  from: string | undefined;
  to: string | undefined;
  filtered: boolean;
  clearHref: string;
}) {
  return (
    <>
      <label className="field" htmlFor={`${props.idPrefix}-from`}>
        <span className="field__label">From (UTC)</span>
        <input id={`${props.idPrefix}-from`} name="from" type="date" className="input" defaultValue={props.from} />
      </label>
      <label className="field" htmlFor={`${props.idPrefix}-to`}>
        <span className="field__label">To (UTC)</span>
        <input id={`${props.idPrefix}-to`} name="to" type="date" className="input" defaultValue={props.to} />
      </label>
      <div className="filter-form__buttons">
        <button type="submit" className="button button--primary">
          Filter
        </button>
        {props.filtered && (
          <Link href={props.clearHref} className="button button--ghost">
            Clear
          </Link>
        )}
      </div>
    </>
  );
}
