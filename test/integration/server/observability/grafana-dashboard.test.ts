import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createGatewayMetrics } from "~/server/observability/gateway-metrics";

/** The dashboard shipped in docs/ asks only for series the gateway exports: it cannot drift from the code silently. */
describe("docs/grafana-dashboard.json", () => {
  it("queries only metrics the gateway's registry has", async () => {
    const dashboard = JSON.parse(readFileSync("docs/grafana-dashboard.json", "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const { registry } = createGatewayMetrics({
      catalog: { listModels: () => [] },
      breaker: { stateOf: () => "closed" },
      usageWriter: { queuedSettlements: () => 0 },
      clock: Date.now,
    });
    const exported = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    expect(dashboard.panels.length).toBeGreaterThan(10);
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const names = [...expr.matchAll(/\b((?:tollgate|nodejs|process)_[a-z0-9_]+)/g)].map(([, name]) =>
          name!.replace(/_(bucket|sum|count)$/, ""),
        );
        expect(names.length, panel.title).toBeGreaterThan(0);
        for (const name of names) expect(exported.has(name), `${panel.title}: ${name}`).toBe(true);
      }
    }
  });
});
