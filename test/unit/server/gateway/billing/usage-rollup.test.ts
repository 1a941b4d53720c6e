import { describe, expect, it } from "vitest";
import { rollUpGenerations } from "~/server/gateway/billing/usage-rollup";

function settled(overrides: Record<string, unknown>, costNano = 100n) {
  return {
    generation: {
      id: String(Math.random()),
      userId: "u",
      apiKeyId: "k",
      modelId: "m",
      provider: "p",
      upstreamModel: "m",
      streamed: false,
      httpStatus: 200,
      latencyMs: 10,
      promptTokens: 3,
      completionTokens: 2,
      reasoningTokens: 1,
      createdAt: new Date("2026-11-20T10:59:59.999Z"),
      ...overrides,
    },
    costNano,
  };
}

describe("rollUpGenerations", () => {
  it("sums calls per account, key, model, provider and UTC hour, counting errors and measured first tokens", () => {
    const rows = rollUpGenerations([
      settled({}),
      settled({ httpStatus: 502, promptTokens: 0, completionTokens: 0, reasoningTokens: 0 }, 0n),
      settled({ streamed: true, timeToFirstTokenMs: 7 }),
      settled({ createdAt: new Date("2026-11-20T11:00:00Z") }),
      settled({ apiKeyId: null }),
    ]);
    expect(rows).toEqual([
      ["u", null, "m", "p", "2026-11-20T10:00:00.000Z", 1, 0, 3, 2, 0, 0, 1, 100n, 10, 0, 0, 100n],
      ["u", "k", "m", "p", "2026-11-20T10:00:00.000Z", 3, 1, 6, 4, 0, 0, 2, 200n, 30, 7, 1, 200n],
      ["u", "k", "m", "p", "2026-11-20T11:00:00.000Z", 1, 0, 3, 2, 0, 0, 1, 100n, 10, 0, 0, 100n],
    ]);
  });

  it("sums what the calls cost Tollgate: the upstream's charge where reported, else the cost without markup", () => {
    const [row] = rollUpGenerations([
      settled({ markupBasisPoints: 1000 }, 1_100n),
      settled({ markupBasisPoints: 550 }, 1_000n),
      settled({ markupBasisPoints: 1000, upstreamCostNano: 700n }, 1_100n),
      settled({ markupBasisPoints: null }, 50n),
    ]);
    // 1,100 / 1.1 = 1,000; 1,000 / 1.055 = 947.86 → 947 (never overstating the margin); 700 as reported; 50.
    expect(row?.[16]).toBe(1_000n + 947n + 700n + 50n);
  });

  it("orders slots the same way whatever order the calls came in, so batches lock them in one order", () => {
    const calls = ["b", "a", "c"].map((modelId) => settled({ modelId }));
    const models = (rows: ReturnType<typeof rollUpGenerations>) => rows.map((row) => row[2]);
    expect(models(rollUpGenerations(calls))).toEqual(["a", "b", "c"]);
    expect(models(rollUpGenerations([...calls].reverse()))).toEqual(["a", "b", "c"]);
  });
});
