import { NANO_PER_USD } from "~/server/gateway/billing/money";

/** Stripe charges USD in integer cents; the ledger counts nano-USD. One cent is ten million nano-USD. */
export const NANO_PER_CENT = NANO_PER_USD / 100n;

export function centsToNano(cents: number): bigint {
  if (!Number.isSafeInteger(cents)) throw new Error(`Not a whole number of cents: ${cents}`);
  return BigInt(cents) * NANO_PER_CENT;
}

/** Only whole cents can be charged: a fraction of a cent is a bug upstream of here, never rounded away. */
export function nanoToCents(nano: bigint): number {
  if (nano % NANO_PER_CENT !== 0n) throw new Error(`Not a whole number of cents: ${nano} nano-USD`);
  return Number(nano / NANO_PER_CENT);
}

export interface TopUpLimits {
  presetsNano: readonly bigint[];
  minNano: bigint;
  maxNano: bigint;
}

/** Why an amount cannot be topped up, or null when it can: a preset, or a custom amount within min and max. */
export function topUpAmountProblem(amountNano: bigint, limits: TopUpLimits): string | null {
  if (amountNano % NANO_PER_CENT !== 0n) return "Amounts are charged in whole cents";
  if (limits.presetsNano.includes(amountNano)) return null;
  if (amountNano < limits.minNano) return `The smallest top-up is $${formatCents(limits.minNano)}`;
  if (amountNano > limits.maxNano) return `The largest top-up is $${formatCents(limits.maxNano)}`;
  return null;
}

/** 12_500_000_000n → "12.50": how people read a price. */
export function formatCents(nano: bigint): string {
  const cents = nanoToCents(nano);
  return `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}
