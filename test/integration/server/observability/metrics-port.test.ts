import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startGatewayHarness } from "../../../helpers/gateway-harness";
import { startGatewayProcess, type GatewayProcess } from "../../../helpers/gateway-process";
import { parseScrape } from "../../../helpers/prometheus";

/* Where /metrics is served: nowhere by default, on a port of its own with METRICS_PORT (the production entry). */

const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function metricsAddress(gateway: GatewayProcess): Promise<string> {
  for (let waited = 0; waited < 5_000; waited += 50) {
    const match = /Metrics on (http:\/\/\S+)/.exec(gateway.output());
    if (match !== null) return match[1]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no metrics address in:\n${gateway.output()}`);
}

describe("the metrics endpoint", () => {
  it("is off unless configured: no registry, and /metrics is not a route", async () => {
    const harness = await startGatewayHarness();
    cleanups.push(() => harness.stop());
    expect(harness.container.metrics).toBeNull();
    const response = await fetch(harness.baseUrl.replace(/\/v1$/, "/metrics"));
    expect(response.status).toBe(404);
  });

  it("with METRICS_PORT, answers on its own loopback listener (token optional there) and not on the public port", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-metrics-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const gateway = await startGatewayProcess({
      DATA_DIR: dataDir,
      PGLITE_DIR: path.join(dataDir, "pglite"),
      METRICS_PORT: "0",
    });
    cleanups.push(() => void gateway.child.kill("SIGKILL"));
    const address = await metricsAddress(gateway);
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    const models = await fetch(`${gateway.baseUrl.replace(/\/v1$/, "")}/api/v1/models`);
    expect(models.status).toBe(200);
    const scrape = parseScrape(await (await fetch(address)).text());
    expect(scrape.value("tollgate_requests_total", { endpoint: "/api/v1/models", status: "200", model: "" })).toBe(1);
    expect(scrape.families.has("nodejs_eventloop_lag_seconds")).toBe(true);

    expect((await fetch(`${gateway.baseUrl.replace(/\/v1$/, "")}/metrics`)).status).toBe(404);
    expect((await fetch(address.replace("/metrics", "/other"))).status).toBe(404);
    expect(await gateway.stop()).toBe(0);
  });
});
