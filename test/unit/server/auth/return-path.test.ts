import { describe, expect, it } from "vitest";
import { safeReturnPath, signInPathFor } from "~/server/auth/return-path";

describe("safeReturnPath", () => {
  it("keeps a path on this site, query included", () => {
    expect(safeReturnPath("/billing")).toBe("/billing");
    expect(safeReturnPath("/activity?range=7d&model=openai%2Fgpt-4.1")).toBe(
      "/activity?range=7d&model=openai%2Fgpt-4.1",
    );
  });

  it("refuses anything that could lead to another site", () => {
    for (const value of [
      "https://evil.example/",
      "//evil.example",
      "/\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "javascript:alert(1)",
      "billing",
      "",
      null,
      ["/billing"],
      `/${"a".repeat(3_000)}`,
    ]) {
      expect(safeReturnPath(value), JSON.stringify(value)).toBeNull();
    }
  });
});

describe("signInPathFor", () => {
  it("asks the sign-in page to come back, unless to where it goes anyway", () => {
    expect(signInPathFor("/billing?x=1")).toBe("/sign-in?next=%2Fbilling%3Fx%3D1");
    expect(signInPathFor("/keys")).toBe("/sign-in");
    expect(signInPathFor(null)).toBe("/sign-in");
    expect(signInPathFor("//evil.example")).toBe("/sign-in");
  });
});
