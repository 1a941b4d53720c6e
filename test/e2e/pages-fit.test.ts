import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  horizontalOverflow,
  launchChromium,
  overflowingBoxes,
  Screenshots,
  unreachableControls,
  watchPage,
  whyUnreachable,
  type PageDiagnostics,
} from "../helpers/browser";
import { startDashboardServer, type DashboardServer } from "../helpers/dashboard-server";

/*
 * Every page at a desktop and a phone size: nothing wider than the window, and every link, button and field reachable
 * without scrolling sideways (in particular each key's Limits, Disable and Revoke, the limits editor they open with its
 * model allowlist and rate limits, and the create form's).
 * The account has the keys a real one collects: limited and expiring, a long name, a disabled one, one just used.
 */

const EMAIL = "grace@example.com";
const PASSWORD = "a long enough password";
const VIEWPORTS = [
  { name: "desktop", width: 1440, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

let server: DashboardServer;
let browser: Browser;

beforeAll(async () => {
  server = await startDashboardServer("pages-fit");
  const run = async (args: string[]) => {
    const result = await server.cli(args);
    expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
    return result.stdout.trim().split("\n").at(-1) ?? "";
  };
  await run(["user", "create", "--email", EMAIL, "--password", PASSWORD, "--name", "Grace Hopper"]);
  await run(["credits", "add", "--email", EMAIL, "--usd", "1234.5", "--note", "Welcome credit for the pilot"]);
  const expires = new Date(Date.now() + 90 * 24 * 3600 * 1000).toISOString();
  const limited = await run([
    ...["key", "create", "--email", EMAIL, "--name", "production"],
    ...["--limit-usd", "250.75", "--limit-reset", "monthly", "--expires", expires],
  ]);
  await run(["key", "create", "--email", EMAIL, "--name", "nightly-batch-jobs-for-the-analytics-warehouse"]);
  const laptop = await run(["key", "create", "--email", EMAIL, "--name", "laptop"]);
  await run(["key", "disable", laptop.slice(0, 14), "--email", EMAIL]);
  // A call, so that a key shows when it was last used and the history has usage in it.
  const response = await fetch(`${server.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${limited}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "Hi" }] }),
  });
  expect(response.status).toBe(200);
  // And a streamed one, for the activity page's log and chart.
  const streamed = await fetch(`${server.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${limited}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tollgate/echo", stream: true, messages: [{ role: "user", content: "Stream" }] }),
  });
  expect(await streamed.text()).toContain("[DONE]");
  browser = await launchChromium(inject("chromiumPath"));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe.each(VIEWPORTS)("every page fits $name ($width×$height)", (viewport) => {
  let context: BrowserContext;
  let page: Page;
  let diagnostics: PageDiagnostics;
  let shots: Screenshots;

  beforeAll(async () => {
    context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
      locale: "en-GB",
      timezoneId: "UTC",
    });
    page = await context.newPage();
    diagnostics = watchPage(page);
    shots = new Screenshots(inject("screenshotFolder"), `pages-${viewport.name}`);
  });

  afterAll(async () => {
    await context?.close();
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() =>
      console.error(`Page at failure: ${page.url()}\n${diagnostics.report()}\nScreenshots: ${shots.folder}`),
    );
  });

  /** Opens a page, screenshots it, and checks that it fits and every control on it is reachable. */
  async function visit(pathname: string, name: string): Promise<void> {
    await page.goto(`${server.origin}${pathname}`, { waitUntil: "networkidle" });
    await shots.take(page, name);
    await expectToFit(name);
  }

  async function expectToFit(name: string): Promise<void> {
    expect(await horizontalOverflow(page), `${name} is wider than the window by (px)`).toBe(0);
    expect(await unreachableControls(page), `controls on ${name} out of reach`).toEqual([]);
    expect(await overflowingBoxes(page), `boxes on ${name} too narrow for their content`).toEqual([]);
  }

  it("signed out: the landing, sign-in, sign-up, password reset, model catalog, model, docs and not-found pages", async () => {
    await visit("/", "landing");
    await visit("/sign-in", "sign-in");
    await visit("/sign-up", "sign-up");
    await visit("/forgot-password", "forgot-password");
    await visit("/reset-password/no-such-link", "reset-password-dead-link");
    await visit("/models", "models");
    await visit("/models/tollgate/echo", "model-echo");
    await visit("/docs", "docs");
    await visit("/docs/errors", "docs-errors");
    const missing = await page.goto(`${server.origin}/no-such-page`);
    expect(missing?.status()).toBe(404);
    await shots.take(page, "not-found");
    await expectToFit("not-found");
  });

  it("signed in: /keys, with every key's actions and the limits editor in reach", async () => {
    await page.goto(`${server.origin}/sign-in`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/keys`);
    // The setup's calls reach the sparklines once the usage writer has written them: look again until they have.
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.getByTestId("spend-sparkline").count();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(1);
    await visit("/keys", "keys");

    const rows = page
      .getByRole("region", { name: "Your keys" })
      .getByRole("row")
      .filter({ has: page.getByRole("button") });
    expect(await rows.count()).toBe(3);
    for (const row of await rows.all()) {
      const name = (await row.getByRole("cell").first().innerText()).trim();
      for (const action of ["Limits", /^(Disable|Enable)$/, "Revoke"]) {
        const button = row.getByRole("button", { name: action, exact: true });
        expect(await button.count(), `${name}: ${String(action)}`).toBe(1);
        expect(await whyUnreachable(button), `${name}: ${String(action)}`).toBeNull();
      }
    }

    const production = rows.filter({ hasText: "production" });
    // The key with calls draws its spend; the others say they have none.
    const sparkline = production.getByRole("img", { name: /^Spend over the last 14 days: \$0\.0\d+ total$/ });
    expect(await sparkline.locator("path.recharts-area-curve").count()).toBe(1);
    expect(await sparkline.boundingBox()).toMatchObject({ width: 120, height: 32 });
    expect(await production.locator('td[data-label="Last used (UTC)"]').innerText()).not.toBe("Never");
    expect(await production.locator('td[data-label="Spent this period"]').innerText()).toMatch(/^\$0\.0\d+/);
    for (const name of ["laptop", "nightly-batch-jobs"]) {
      const row = rows.filter({ hasText: name });
      expect(await row.getByRole("img", { name: "No calls in the last 14 days" }).count(), name).toBe(1);
    }

    // The create form's models and rate limits, folded away until asked for.
    const createForm = page.getByRole("region", { name: "Create a key" });
    await createForm.getByText("Models and rate limits").click();
    await createForm.getByLabel("Requests per minute").waitFor();
    await shots.take(page, "keys-create-more");
    await expectToFit("keys with the create form's models and rate limits open");
    await createForm.getByText("Models and rate limits").click();

    await production.getByRole("button", { name: "Limits", exact: true }).click();
    const editor = page.getByRole("form", { name: "Limits of production" });
    await editor.waitFor();
    expect(await editor.getByLabel("Spend limit (USD)").inputValue()).toBe("250.75");
    for (const label of ["Requests per minute", "Tokens per minute", "Concurrent requests"]) {
      expect(await editor.getByLabel(label).inputValue(), label).toBe("");
    }
    expect(await editor.getByText("Every model.").count()).toBe(1);
    // Picking a model lists it with a button to take it off again.
    await editor.getByLabel("Add a model").selectOption("tollgate/echo");
    await editor.getByRole("button", { name: "Add", exact: true }).click();
    await editor.getByRole("button", { name: "Remove tollgate/echo" }).waitFor();
    await editor.getByLabel("Requests per minute").fill("60");
    for (const control of await editor.locator("input, select, button").all()) {
      expect(
        await whyUnreachable(control),
        await control.evaluate((element) => element.outerHTML.slice(0, 80)),
      ).toBeNull();
    }
    await shots.take(page, "keys-limits-editor");
    await expectToFit("keys with the limits editor open");
    await editor.getByRole("button", { name: "Cancel" }).click();

    await production.getByRole("button", { name: "Revoke", exact: true }).click();
    const confirm = production.getByRole("button", { name: "Yes, revoke" });
    expect(await whyUnreachable(confirm)).toBeNull();
    await shots.take(page, "keys-revoke-confirm");
    await expectToFit("keys asking to confirm a revoke");
    await production.getByRole("button", { name: "Cancel" }).click();
  });

  it("signed in: /account", async () => {
    await visit("/account", "account");
    await page.getByRole("button", { name: "Delete my account…" }).click();
    await shots.take(page, "account-delete-confirm");
    await expectToFit("account-delete-confirm");
  });

  it("signed in: /playground, one model and two side by side", async () => {
    await visit("/playground", "playground");
    await page.getByRole("button", { name: "Compare with another model" }).click();
    await shots.take(page, "playground-compare");
    await expectToFit("playground comparing two models");
  });

  it("signed in: /billing", async () => {
    await visit("/billing", "billing");
    expect(await page.getByTestId("billing-balance").innerText()).toMatch(/^\$1,234\.4\d*$/);
  });

  it("signed in: /activity, with its chart, breakdowns, log and a request's detail", async () => {
    await visit("/activity", "activity");
    await page.getByTestId("spend-chart").locator(".recharts-bar-rectangle").first().waitFor();
    await page.getByTestId("request-log").locator("tbody tr").first().click();
    await page.getByTestId("generation-panel").getByText("Upstream attempts").waitFor();
    await shots.take(page, "activity-request-detail");
    await expectToFit("activity with a request's detail open");
    // A range with nothing in it says so.
    await page.getByRole("button", { name: "Custom" }).click();
    await page.getByLabel("From", { exact: true }).fill("2020-01-01");
    await page.getByLabel("To", { exact: true }).fill("2020-01-02");
    await page.getByText("No request matches this range").waitFor();
    await shots.take(page, "activity-empty-range");
    await expectToFit("activity with an empty range");
  });

  it("logged no errors in the browser", () => {
    // The not-found page answers 404 on purpose, and Chromium logs every 404 it loads.
    const expected = `${server.origin}/no-such-page: Failed to load resource: the server responded with a status of 404`;
    expect(diagnostics.consoleErrors.filter((error) => !error.startsWith(expected))).toEqual([]);
  });
});
