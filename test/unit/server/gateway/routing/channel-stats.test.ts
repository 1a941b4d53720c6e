import { describe, expect, it } from "vitest";
import {
  createChannelStats,
  failureOutcome,
  emptyCounts,
  histogramBin,
  HISTOGRAM_BINS,
  MINUTE_MS,
} from "~/server/gateway/routing/channel-stats";

/** A clock the test moves by hand, starting at a minute boundary. */
function manualClock(start = 1_000 * MINUTE_MS) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("histogramBin", () => {
  it("puts values into logarithmic bins of 25 %, everything up to 1 in the first and outliers in the last", () => {
    expect(histogramBin(0)).toBe(0);
    expect(histogramBin(1)).toBe(0);
    expect(histogramBin(1.2)).toBe(1);
    expect(histogramBin(1.25)).toBe(1);
    expect(histogramBin(1.3)).toBe(2);
    expect(histogramBin(Number.NaN)).toBe(0);
    expect(histogramBin(1e12)).toBe(HISTOGRAM_BINS - 1);
  });
});

describe("failureOutcome", () => {
  it("blames the request for 4xx about what was asked, the provider for everything else", () => {
    for (const status of [400, 404, 413, 422]) expect(failureOutcome(status)).toBe("request_error");
    for (const status of [null, 401, 402, 403, 408, 429, 500, 501, 502, 503, 504, 520, 529]) {
      expect(failureOutcome(status)).toBe("provider_error");
    }
  });
});

describe("channel statistics", () => {
  it("estimates percentiles within one bin of the true value", () => {
    const clock = manualClock();
    const stats = createChannelStats(clock.now);
    // 100 calls: first tokens at 10..1000 ms in steps of 10.
    for (let call = 1; call <= 100; call++) {
      stats.record("ch", "m", {
        outcome: "success",
        latencyMs: call * 20,
        firstTokenMs: call * 10,
        tokensPerSecond: 50,
      });
    }
    const { firstTokenMs, latencyMs, tokensPerSecond } = stats.get("ch", "m");
    const near = (actual: number | undefined, expected: number) => {
      expect(actual).toBeGreaterThan(expected / 1.25);
      expect(actual).toBeLessThan(expected * 1.25);
    };
    near(firstTokenMs?.p50, 500);
    near(firstTokenMs?.p90, 900);
    near(firstTokenMs?.p99, 990);
    near(latencyMs?.p50, 1000);
    near(tokensPerSecond?.p50, 50);
  });

  it("tells provider failures (uptime) from request errors (error rate only)", () => {
    const clock = manualClock();
    const stats = createChannelStats(clock.now);
    for (let call = 0; call < 6; call++) stats.record("ch", "m", { outcome: "success", latencyMs: 100 });
    stats.record("ch", "m", { outcome: "provider_error" });
    stats.record("ch", "m", { outcome: "request_error" });
    const { last5m } = stats.get("ch", "m");
    expect(last5m).toMatchObject({ requests: 8, successes: 6, providerErrors: 1, requestErrors: 1 });
    expect(last5m.uptime).toBeCloseTo(7 / 8);
    expect(last5m.errorRate).toBeCloseTo(2 / 8);
    // Another channel+model is not affected.
    expect(stats.get("ch", "other").last5m).toMatchObject({ requests: 0, uptime: null, errorRate: null });
  });

  it("rolls calls out of the 5-minute, 30-minute and 1-day windows as time passes", () => {
    const clock = manualClock();
    const stats = createChannelStats(clock.now);
    stats.record("ch", "m", { outcome: "provider_error" });
    stats.record("ch", "m", { outcome: "success", latencyMs: 100, firstTokenMs: 50 });

    clock.advance(5 * MINUTE_MS);
    let now = stats.get("ch", "m");
    expect(now.last5m.requests).toBe(0);
    expect(now.last30m).toMatchObject({ requests: 2, uptime: 0.5 });
    expect(now.firstTokenMs).not.toBeNull();

    clock.advance(25 * MINUTE_MS);
    now = stats.get("ch", "m");
    expect(now.last30m.requests).toBe(0);
    expect(now.last1d).toMatchObject({ requests: 2, uptime: 0.5 });
    // Percentiles cover the last 30 minutes only.
    expect(now.firstTokenMs).toBeNull();

    clock.advance(24 * 60 * MINUTE_MS);
    expect(stats.get("ch", "m").last1d.requests).toBe(0);
  });

  it("hands over unflushed counts once, keeps them counted, and takes the database's totals when read back", () => {
    const clock = manualClock();
    const stats = createChannelStats(clock.now);
    stats.record("ch", "m", { outcome: "success", latencyMs: 100, outputTokens: 7 });
    stats.record("ch", "m", { outcome: "provider_error" });

    const deltas = stats.takeUnflushed();
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ channelId: "ch", upstreamModel: "m", minute: clock.now() });
    expect(deltas[0]!.counts).toMatchObject({ successes: 1, providerErrors: 1, outputTokens: 7 });
    expect(stats.takeUnflushed()).toEqual([]);
    // Flushed counts still count until the database's total arrives.
    clock.advance(2_000);
    expect(stats.get("ch", "m").last5m.requests).toBe(2);

    // The database's row sums every process: ours (2) and another's (3 successes).
    const total = emptyCounts();
    total.successes = 4;
    total.providerErrors = 1;
    total.latency[histogramBin(100)] = 4;
    stats.applyPersisted([{ channelId: "ch", upstreamModel: "m", minute: deltas[0]!.minute, counts: total }]);
    stats.record("ch", "m", { outcome: "success", latencyMs: 100 });
    const { last5m } = stats.get("ch", "m");
    expect(last5m).toMatchObject({ requests: 6, successes: 5, providerErrors: 1 });
  });
});
