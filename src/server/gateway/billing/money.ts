/**
 * Money is integer nano-USD (1e-9 USD) held in bigint: exact for every price a provider publishes
 * (the smallest seen is a few hundredths of a cent per million tokens) and far from overflow.
 */
export const NANO_PER_USD = 1_000_000_000n;
export const TOKENS_PER_PRICE_UNIT = 1_000_000n;

const USD_DECIMAL = /^(-)?(\d+)(?:\.(\d{1,9}))?$/;

/** "12.5" → 12_500_000_000n. Rejects more than nine fractional digits instead of rounding silently. */
export function parseUsdToNano(text: string): bigint {
  const match = USD_DECIMAL.exec(text.trim());
  if (!match) throw new Error(`Not a USD amount with at most 9 decimals: ${JSON.stringify(text)}`);
  const [, sign, whole = "0", fraction = ""] = match;
  const nano = BigInt(whole) * NANO_PER_USD + BigInt(fraction.padEnd(9, "0"));
  return sign === "-" ? -nano : nano;
}

/** 500n → "0.0000005"; trailing zeros trimmed, never exponent notation. */
export function formatNanoAsUsd(nano: bigint): string {
  const negative = nano < 0n;
  const magnitude = negative ? -nano : nano;
  const whole = magnitude / NANO_PER_USD;
  const fraction = (magnitude % NANO_PER_USD).toString().padStart(9, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** For JSON fields that clients read as numbers (`usage.cost`): the double nearest the exact decimal. */
export function nanoToUsdNumber(nano: bigint): number {
  return Number(formatNanoAsUsd(nano));
}
