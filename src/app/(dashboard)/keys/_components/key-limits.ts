import { formatUsd } from "~/components/ui/format";

export type LimitReset = "daily" | "weekly" | "monthly";
export const RESET_OPTIONS: readonly { value: LimitReset | ""; label: string }[] = [
  { value: "", label: "In total" },
  { value: "daily", label: "Per day" },
  { value: "weekly", label: "Per week" },
  { value: "monthly", label: "Per month" },
];

/** "$5.00 per day", "$20.00 in total", or "No limit". Periods are UTC; weeks start on Monday. */
export function describeLimit(spendLimitUsd: string | null, limitReset: LimitReset | null): string {
  if (spendLimitUsd === null) return "No limit";
  const period = RESET_OPTIONS.find((option) => option.value === (limitReset ?? ""))?.label ?? "";
  return `${formatUsd(spendLimitUsd)} ${period.toLowerCase()}`;
}

/** A date input's value (YYYY-MM-DD) as the start of that day in UTC, the zone the dashboard shows; null if blank. */
export function expiryFromDateInput(value: string): Date | null {
  return value === "" ? null : new Date(`${value}T00:00:00Z`);
}

export function dateInputFromExpiry(expiresAt: Date | null): string {
  return expiresAt === null ? "" : expiresAt.toISOString().slice(0, 10);
}

export function resetFromSelect(value: string): LimitReset | null {
  return value === "daily" || value === "weekly" || value === "monthly" ? value : null;
}

/** A rate-limit field's value as the API takes it: blank is null (the configured default applies). */
export function rateFromInput(value: string): number | null {
  const trimmed = value.trim();
  return trimmed === "" ? null : Number(trimmed);
}

export function inputFromRate(rate: number | null): string {
  return rate === null ? "" : String(rate);
}

const count = new Intl.NumberFormat("en-GB");

/** "60 requests/min · 2 at once", only the limits the key sets itself; null when it sets none. */
export function describeRateLimits(key: {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentRequests: number | null;
}): string | null {
  const parts = [
    key.requestsPerMinute === null ? null : `${count.format(key.requestsPerMinute)} requests/min`,
    key.tokensPerMinute === null ? null : `${count.format(key.tokensPerMinute)} tokens/min`,
    key.concurrentRequests === null ? null : `${count.format(key.concurrentRequests)} at once`,
  ].filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(" · ");
}

/** "tollgate/echo", "3 models", or null for a key that may call every model. */
export function describeAllowlist(allowedModels: readonly string[] | null): string | null {
  if (allowedModels === null) return null;
  return allowedModels.length === 1 ? (allowedModels[0] ?? null) : `${allowedModels.length} models`;
}

export function sameModels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

const RATE_FIELDS = {
  requestsPerMinute: "Requests per minute",
  tokensPerMinute: "Tokens per minute",
  concurrentRequests: "Concurrent requests",
} as const;

/** The first input error the server reported for the key forms' fields, worded for the form; undefined if none. */
export function firstFieldError(fieldErrors: Partial<Record<string, string[]>> | undefined): string | undefined {
  if (fieldErrors === undefined) return undefined;
  for (const field of ["name", "limitUsd", "allowedModels"]) {
    const message = fieldErrors[field]?.[0];
    if (message !== undefined) return message;
  }
  for (const [field, label] of Object.entries(RATE_FIELDS)) {
    const message = fieldErrors[field]?.[0];
    if (message !== undefined) return `${label} ${message}`;
  }
  return undefined;
}
