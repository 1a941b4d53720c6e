import { describe, expect, it } from "vitest";
import { formatNanoAsUsd, nanoToUsdNumber, parseUsdToNano } from "~/server/gateway/billing/money";

describe("parseUsdToNano", () => {
  it.each([
    ["0", 0n],
    ["1", 1_000_000_000n],
    ["0.05", 50_000_000n],
    ["12.5", 12_500_000_000n],
    ["0.000000001", 1n],
    ["-3.25", -3_250_000_000n],
    [" 7 ", 7_000_000_000n],
  ])("parses %s exactly", (text, nano) => {
    expect(parseUsdToNano(text)).toBe(nano);
  });

  it.each(["", "abc", "1.0000000001", "1e3", "1,5", "$1"])("rejects %j instead of rounding or guessing", (text) => {
    expect(() => parseUsdToNano(text)).toThrow();
  });
});

describe("formatNanoAsUsd", () => {
  it.each([
    [0n, "0"],
    [500n, "0.0000005"],
    [1_000_000_000n, "1"],
    [12_345_678_901n, "12.345678901"],
    [-250_000_000n, "-0.25"],
  ])("formats %s as %s", (nano, text) => {
    expect(formatNanoAsUsd(nano)).toBe(text);
  });

  it("round-trips with parseUsdToNano", () => {
    for (const nano of [1n, 999n, 123_456_789_012_345n, -42n]) expect(parseUsdToNano(formatNanoAsUsd(nano))).toBe(nano);
  });

  it("gives clients a plain number for usage.cost", () => {
    expect(nanoToUsdNumber(500n)).toBe(0.0000005);
    expect(nanoToUsdNumber(140_000n)).toBe(0.00014);
  });
});
