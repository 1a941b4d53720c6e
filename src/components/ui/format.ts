/**
 * Dates render on the server and again in the browser; a fixed time zone keeps the two renders identical
 * (hydration) and unambiguous.
 */
const dateTime = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});

/** "22 Nov 2026, 13:29", in UTC: say so where it is shown. */
export function formatDateTime(date: Date): string {
  return dateTime.format(date);
}

/**
 * "12.5" → "$12.50", "0.0000005" → "$0.0000005": at least `places` decimals (cents by default), never rounds the exact
 * value away.
 */
export function formatUsd(decimal: string, places = 2): string {
  const negative = decimal.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? decimal.slice(1) : decimal).split(".");
  const wholeWithCommas = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}$${wholeWithCommas}.${fraction.padEnd(places, "0")}`;
}

/**
 * One money format for a column of amounts: every amount with as many decimals as the most precise of them needs (at
 * least cents), so that the amounts line up and none is rounded.
 */
export function usdColumnFormat(decimals: readonly string[]): (decimal: string) => string {
  const places = Math.max(2, ...decimals.map((decimal) => decimal.split(".")[1]?.length ?? 0));
  return (decimal) => formatUsd(decimal, places);
}

/** 128000 → "128K", 1048576 → "1.05M": token counts as people quote context windows. */
export function formatTokenCount(tokens: number): string {
  if (tokens >= 1_000_000) return `${Number((tokens / 1_000_000).toFixed(2))}M`;
  if (tokens >= 1_000) return `${Number((tokens / 1_000).toFixed(1))}K`;
  return String(tokens);
}

/** An exact decimal times 10^places, as an exact decimal: "0.0000033" × 10^6 → "3.3" (USD per token → per million). */
export function shiftDecimal(decimal: string, places: number): string {
  const [whole = "0", fraction = ""] = decimal.split(".");
  const digits = `${whole}${fraction.padEnd(places, "0")}`;
  const point = whole.length + places;
  const integer = digits.slice(0, point).replace(/^0+(?=\d)/, "");
  const rest = digits.slice(point).replace(/0+$/, "");
  return rest === "" ? integer : `${integer}.${rest}`;
}
