import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuild } from "~/scripts/dashboard-build";
import { signedStripeEvent, TEST_STRIPE_WEBHOOK_SECRET } from "../helpers/fake-stripe";
import { runCli, startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process";

// One process serves the dashboard (Next.js) and /v1 (the gateway core) on one port, as `npm start` does.
let gateway: GatewayProcess;
let origin: string;
let variables: Record<string, string>;
const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-dashboard-"));

beforeAll(async () => {
  // `npm test` type-checks before it runs the tests.
  ensureDashboardBuild({ typeChecked: true });
  variables = { DATA_DIR: dataDir, PGLITE_DIR: path.join(dataDir, "pglite") };
  gateway = await startGatewayProcess({
    ...variables,
    SERVE_DASHBOARD: "true",
    STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
  });
  origin = gateway.baseUrl.replace(/\/v1$/, "");
}, 900_000);

afterAll(async () => {
  await gateway?.stop("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the production entry with the dashboard", () => {
  it("serves the landing, sign-in and sign-up pages", async () => {
    for (const page of ["/", "/sign-in", "/sign-up"]) {
      const response = await fetch(`${origin}${page}`);
      expect(response.status, page).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(await response.text()).toContain("Tollgate");
    }
  });

  it("sends visitors without a session from /keys and /billing to sign in", async () => {
    for (const page of ["/keys", "/billing"]) {
      const response = await fetch(`${origin}${page}`, { redirect: "manual" });
      expect([302, 303, 307, 308], page).toContain(response.status);
      expect(response.headers.get("location"), page).toContain("/sign-in");
    }
  });

  it("verifies Stripe webhooks over HTTP against the exact bytes received", async () => {
    const post = (body: string, signature: string) =>
      fetch(`${origin}/api/stripe/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body,
      });
    // An event type Tollgate does not act on: verified, acknowledged, ignored.
    const event = signedStripeEvent(TEST_STRIPE_WEBHOOK_SECRET, "customer.created", {
      id: "cus_test",
      object: "customer",
    });
    const accepted = await post(event.rawBody, event.signature);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ received: true, ignored: true });
    // The same bytes signed with another secret, and the right signature over other bytes, are refused.
    const forged = signedStripeEvent(TEST_STRIPE_WEBHOOK_SECRET, "customer.created", {}, { signWith: "whsec_other" });
    expect((await post(forged.rawBody, forged.signature)).status).toBe(400);
    expect((await post(`${event.rawBody} `, event.signature)).status).toBe(400);
  });

  it("reports health after checking the database", async () => {
    const response = await fetch(`${origin}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  it("serves /v1 from the same port and container", async () => {
    const email = "dashboard-process@example.com";
    expect((await runCli(["user", "create", "--email", email, "--password", "password-123"], variables)).code).toBe(0);
    const created = await runCli(["key", "create", "--email", email, "--name", "dash"], variables);
    const apiKey = created.stdout.trim().split("\n").at(-1) ?? "";
    const response = await fetch(`${gateway.baseUrl}/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { id: string }[] };
    expect(body.data.map((model) => model.id)).toContain("tollgate/echo");
  }, 300_000);
});
