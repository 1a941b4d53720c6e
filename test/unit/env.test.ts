import { describe, expect, it } from "vitest";
import { readEnv } from "~/env";

describe("upstream time limits", () => {
  it("default to 10 s to connect, 5 min to the first byte and between chunks, 10 min in all", () => {
    expect(readEnv({})).toMatchObject({
      UPSTREAM_CONNECT_TIMEOUT_MS: 10_000,
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: 300_000,
      UPSTREAM_IDLE_TIMEOUT_MS: 300_000,
      UPSTREAM_TOTAL_TIMEOUT_MS: 600_000,
    });
  });

  it("take the deprecated UPSTREAM_TIMEOUT_MS for the first byte and idle limits left unset", () => {
    expect(readEnv({ UPSTREAM_TIMEOUT_MS: "500" })).toMatchObject({
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: 500,
      UPSTREAM_IDLE_TIMEOUT_MS: 500,
    });
    expect(readEnv({ UPSTREAM_TIMEOUT_MS: "500", UPSTREAM_IDLE_TIMEOUT_MS: "900" })).toMatchObject({
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: 500,
      UPSTREAM_IDLE_TIMEOUT_MS: 900,
    });
  });

  it("refuses a limit that is not a positive whole number", () => {
    expect(() => readEnv({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: "0" })).toThrow(/UPSTREAM_FIRST_BYTE_TIMEOUT_MS/);
    expect(() => readEnv({ UPSTREAM_TOTAL_TIMEOUT_MS: "soon" })).toThrow(/UPSTREAM_TOTAL_TIMEOUT_MS/);
  });
});
