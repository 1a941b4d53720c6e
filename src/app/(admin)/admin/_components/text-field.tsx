import type { InputHTMLAttributes } from "react";

type InputProps = Pick<
  InputHTMLAttributes<HTMLInputElement>,
  | "type"
  | "placeholder"
  | "required"
  | "min"
  | "maxLength"
  | "inputMode"
  | "pattern"
  | "title"
  | "autoComplete"
  | "name"
>;

/** A labelled input of the console's forms (the label names it for screen readers and tests), with its error. */
export function TextField({
  id,
  label,
  value,
  onChange,
  mono = false,
  error,
  ...input
}: InputProps & {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** Monospaced: ids, URLs, keys. */
  mono?: boolean;
  error?: string | undefined;
}) {
  return (
    <label className="field" htmlFor={id}>
      <span className="field__label">{label}</span>
      <input
        id={id}
        className={mono ? "input input--mono" : "input"}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        {...input}
      />
      {error && <span className="field__error">{error}</span>}
    </label>
  );
}
