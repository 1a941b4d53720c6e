import { describe, expect, it } from "vitest";
import {
  centsToNano,
  formatCents,
  nanoToCents,
  topUpAmountProblem,
  type TopUpLimits,
} from "~/server/billing/stripe/amounts";
import { parseUsdToNano } from "~/server/gateway/billing/money";

const limits: TopUpLimits = {
  presetsNano: ["10", "2.50"].map(parseUsdToNano),
  minNano: parseUsdToNano("5"),
  maxNano: parseUsdToNano("1000"),
};

describe("Stripe amounts", () => {
  it("converts cents to nano-USD and back exactly", () => {
    expect(centsToNano(1)).toBe(10_000_000n);
    expect(centsToNano(2550)).toBe(parseUsdToNano("25.50"));
    expect(nanoToCents(parseUsdToNano("1000"))).toBe(100_000);
    expect(formatCents(parseUsdToNano("12.5"))).toBe("12.50");
    expect(formatCents(parseUsdToNano("0.07"))).toBe("0.07");
  });

  it("refuses fractions of a cent instead of rounding them", () => {
    expect(() => nanoToCents(parseUsdToNano("0.001"))).toThrow(/whole number of cents/);
    expect(() => centsToNano(1.5)).toThrow(/whole number of cents/);
  });

  it("accepts presets and custom amounts within min and max only", () => {
    expect(topUpAmountProblem(parseUsdToNano("10"), limits)).toBeNull();
    // A preset is offered, so it is accepted even below the custom minimum.
    expect(topUpAmountProblem(parseUsdToNano("2.50"), limits)).toBeNull();
    expect(topUpAmountProblem(parseUsdToNano("5"), limits)).toBeNull();
    expect(topUpAmountProblem(parseUsdToNano("1000"), limits)).toBeNull();
    expect(topUpAmountProblem(parseUsdToNano("4.99"), limits)).toBe("The smallest top-up is $5.00");
    expect(topUpAmountProblem(parseUsdToNano("1000.01"), limits)).toBe("The largest top-up is $1000.00");
    expect(topUpAmountProblem(parseUsdToNano("0"), limits)).toBe("The smallest top-up is $5.00");
    expect(topUpAmountProblem(parseUsdToNano("7.123"), limits)).toBe("Amounts are charged in whole cents");
  });
});
