import { describe, expect, it } from "vitest";
import { readEnv } from "~/env";
import { stripeBillingConfig } from "~/server/billing/stripe/config";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { parseStripeForm } from "../../../../helpers/fake-stripe";

describe("stripeBillingConfig", () => {
  it("is off without a secret key and reads the top-up limits", () => {
    const config = stripeBillingConfig(readEnv({ PORT: "4000" }));
    expect(config.stripe).toBeNull();
    expect(config.webhookSecret).toBeNull();
    expect(config.limits.presetsNano).toEqual(["10", "25", "50", "100"].map(parseUsdToNano));
    expect(config.limits.minNano).toBe(parseUsdToNano("5"));
    expect(config.limits.maxNano).toBe(parseUsdToNano("1000"));
    expect(config.publicUrl).toBe("http://localhost:4000");
    expect(config.autoTopUpMinIntervalMs).toBe(3_600_000);
  });

  it("points the SDK at STRIPE_API_BASE and keeps one client per environment", () => {
    const env = readEnv({
      STRIPE_SECRET_KEY: "sk_test_x",
      STRIPE_API_BASE: "http://127.0.0.1:12345",
      PUBLIC_URL: "https://gw.example/",
      TOP_UP_PRESETS_USD: "7.5, 20",
    });
    const config = stripeBillingConfig(env);
    expect(config.stripe).not.toBeNull();
    expect(stripeBillingConfig(env).stripe).toBe(config.stripe);
    expect(config.publicUrl).toBe("https://gw.example");
    expect(config.limits.presetsNano).toEqual([parseUsdToNano("7.5"), parseUsdToNano("20")]);
  });

  it("refuses a minimum above the maximum and amounts finer than a cent", () => {
    expect(() => stripeBillingConfig(readEnv({ TOP_UP_MIN_USD: "50", TOP_UP_MAX_USD: "10" }))).toThrow(/MIN/);
    expect(() => readEnv({ TOP_UP_MAX_USD: "10.001" })).toThrow(/TOP_UP_MAX_USD/);
  });
});

describe("the fake Stripe's form parser", () => {
  it("reads bracketed keys the way Stripe does", () => {
    expect(parseStripeForm("a=1&m%5Bk%5D=v&l%5B0%5D%5Bx%5D=1&l%5B1%5D%5Bx%5D=2")).toEqual({
      a: "1",
      m: { k: "v" },
      l: [{ x: "1" }, { x: "2" }],
    });
  });
});
