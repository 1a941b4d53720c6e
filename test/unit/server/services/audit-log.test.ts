import { describe, expect, it } from "vitest";
import { changedFields, REDACTED, redactSecrets } from "~/server/services/audit-log";

describe("redactSecrets", () => {
  it("hides secret-named fields at any depth and keeps counts named after tokens readable", () => {
    expect(
      redactSecrets({
        apiKey: "sk-live",
        upstream: { api_key: "sk-2", client_secret: "s", passwordHash: "h", accessToken: "t", refresh_token: "r" },
        tokensPerMinute: 1000,
        maxTokens: 50,
        inputPrice: 2_500_000_000n,
      }),
    ).toEqual({
      apiKey: REDACTED,
      upstream: {
        api_key: REDACTED,
        client_secret: REDACTED,
        passwordHash: REDACTED,
        accessToken: REDACTED,
        refresh_token: REDACTED,
      },
      tokensPerMinute: 1000,
      maxTokens: 50,
      inputPrice: "2500000000",
    });
  });

  it("lists only the fields an edit changed, on both sides", () => {
    expect(changedFields({ a: 1, b: "x", c: null }, { a: 1, b: "y", c: 2n })).toEqual({
      before: { b: "x", c: null },
      after: { b: "y", c: 2n },
    });
  });
});
