import { describe, expect, it } from "vitest";
import { formatTokenCount, shiftDecimal } from "~/components/ui/format";

describe("shiftDecimal", () => {
  it("moves the point exactly, without floating point", () => {
    expect(shiftDecimal("0.0000033", 6)).toBe("3.3");
    expect(shiftDecimal("0.00000015", 6)).toBe("0.15");
    expect(shiftDecimal("0.000000075", 6)).toBe("0.075");
    expect(shiftDecimal("0.00001", 6)).toBe("10");
    expect(shiftDecimal("0", 6)).toBe("0");
    expect(shiftDecimal("12", 2)).toBe("1200");
    expect(shiftDecimal("0.0000000000000001", 6)).toBe("0.0000000001");
  });
});

describe("formatTokenCount", () => {
  it("reads as context windows are quoted", () => {
    expect(formatTokenCount(512)).toBe("512");
    expect(formatTokenCount(8_192)).toBe("8.2K");
    expect(formatTokenCount(128_000)).toBe("128K");
    expect(formatTokenCount(1_047_576)).toBe("1.05M");
    expect(formatTokenCount(1_000_000)).toBe("1M");
  });
});
