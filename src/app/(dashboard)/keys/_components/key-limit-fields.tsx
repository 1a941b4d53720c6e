import { RESET_OPTIONS } from "./key-limits";

/** The spend limit, reset period and expiry inputs shared by the create and edit forms. */
export function KeyLimitFields({
  limitUsd,
  setLimitUsd,
  reset,
  setReset,
  expires,
  setExpires,
  names,
}: {
  limitUsd: string;
  setLimitUsd: (value: string) => void;
  reset: string;
  setReset: (value: string) => void;
  expires: string;
  setExpires: (value: string) => void;
  names?: { limitUsd: string; limitReset: string; expiresAt: string };
}) {
  return (
    <div className="field-row">
      <label className="field">
        <span className="field__label">Spend limit (USD)</span>
        <input
          name={names?.limitUsd}
          className="input"
          inputMode="decimal"
          placeholder="No limit"
          value={limitUsd}
          onChange={(event) => setLimitUsd(event.target.value)}
        />
      </label>
      <label className="field">
        <span className="field__label">Limit resets</span>
        <select
          name={names?.limitReset}
          className="input"
          value={reset}
          onChange={(event) => setReset(event.target.value)}
          disabled={limitUsd.trim() === ""}
        >
          {RESET_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field__label">Expires (UTC)</span>
        <input
          name={names?.expiresAt}
          type="date"
          className="input"
          value={expires}
          onChange={(event) => setExpires(event.target.value)}
        />
      </label>
    </div>
  );
}
