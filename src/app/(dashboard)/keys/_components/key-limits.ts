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
