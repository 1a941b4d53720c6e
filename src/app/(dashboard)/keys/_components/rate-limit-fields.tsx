/** A key's own requests per minute, tokens per minute and concurrent requests; blank takes the configured default. */
export function RateLimitFields({
  values,
  onChange,
  named = false,
}: {
  values: RateLimitInputs;
  onChange: (values: RateLimitInputs) => void;
  /** Give the inputs form field names (the create form's). */
  named?: boolean;
}) {
  const fields = [
    { key: "requestsPerMinute", label: "Requests per minute" },
    { key: "tokensPerMinute", label: "Tokens per minute" },
    { key: "concurrentRequests", label: "Concurrent requests" },
  ] as const;
  return (
    <div className="field-row">
      {fields.map((field) => (
        <label key={field.key} className="field">
          <span className="field__label">{field.label}</span>
          <input
            name={named ? field.key : undefined}
            className="input"
            type="number"
            inputMode="numeric"
            min={1}
            max={2_147_483_647}
            step={1}
            placeholder="Default"
            value={values[field.key]}
            onChange={(event) => onChange({ ...values, [field.key]: event.target.value })}
          />
        </label>
      ))}
    </div>
  );
}

export interface RateLimitInputs {
  requestsPerMinute: string;
  tokensPerMinute: string;
  concurrentRequests: string;
}

export const NO_RATE_LIMIT_INPUTS: RateLimitInputs = {
  requestsPerMinute: "",
  tokensPerMinute: "",
  concurrentRequests: "",
};
