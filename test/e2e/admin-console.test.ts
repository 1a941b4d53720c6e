import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  horizontalOverflow,
  launchChromium,
  overflowingBoxes,
  Screenshots,
  unreachableControls,
  watchPage,
} from "../helpers/browser";
import { browserJourney } from "../helpers/browser-journey";
import { startStubUpstream, type StubUpstream } from "../helpers/channel-test-upstream";
import { startDashboardServer, type DashboardServer } from "../helpers/dashboard-server";
import { fixture } from "../helpers/fixtures";

/*
 * An operator runs the business from the browser: adds a channel to a local upstream (a recorded OpenAI answer),
 * tests it, makes it the only endpoint of a model and reprices it, and the next /v1 call is billed at the new price to
 * the nano-dollar; credits a customer with a note the customer then reads on their billing page and the operator in
 * the audit log; disables the customer, whose key is refused at once and whose sign-in is refused with the reason.
 * A customer gets 404 on every /admin page, and every section fits a phone.
 */

const ADMIN = { email: "ops@gateway.test", password: "an operator password" };
const CUSTOMER = { email: "customer@example.com", password: "a customer password" };
const UPSTREAM_KEY = "sk-upstream-never-shown-0123456789";
const MODEL = "openai/gpt-4.1-nano";
/** The recorded answer's usage: 79 prompt tokens, 1 completion token. */
const RECORDED = fixture("openai/finish-length");
/**
 * At $3 in and $15 out per million tokens with 10 % markup, 79 + 1 tokens cost (79 × 3,000 + 15,000) × 1.1 nano-USD:
 * 277,200 exactly, $0.0002772.
 */
const REPRICED_COST_USD = 0.0002772;
/** The id a customer quotes to support: sent as x-request-id, stored with the call. */
const QUOTED_REQUEST_ID = "support-case-20261206-0001";
const ADMIN_PAGES = [
  "overview",
  "channels",
  "models",
  `models/${MODEL}`,
  "users",
  "money",
  "requests",
  "audit",
] as const;

describe("the operator's console", () => {
  let server: DashboardServer;
  let upstream: StubUpstream;
  let customerKey: string;
  let page: Page;
  let shots: Screenshots;
  let customerContext: BrowserContext;
  let customerPage: Page;

  beforeAll(async () => {
    upstream = await startStubUpstream({ status: RECORDED.status, body: RECORDED.body });
    server = await startDashboardServer("admin-console");
    const run = async (args: string[]) => {
      const result = await server.cli(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      return result.stdout.trim().split("\n").at(-1) ?? "";
    };
    await run(["user", "create", "--email", ADMIN.email, "--password", ADMIN.password, "--admin"]);
    await run(["user", "create", "--email", CUSTOMER.email, "--password", CUSTOMER.password]);
    await run(["credits", "add", "--email", CUSTOMER.email, "--usd", "5", "--note", "Trial credit"]);
    customerKey = await run(["key", "create", "--email", CUSTOMER.email, "--name", "app"]);
    // A second channel already serves the model: the operator will leave the new one as its only endpoint.
    await run([
      ...["channel", "add", "--kind", "openai", "--name", "old-openai", "--base-url", "http://127.0.0.1:9/v1"],
      ...["--api-key", "sk-old", "--models", `${MODEL}=gpt-4.1-nano`],
    ]);
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  const journey = browserJourney("admin-console");
  beforeAll(() => ({ page, shots } = journey));

  async function signIn(target: Page, who: { email: string; password: string }): Promise<void> {
    await target.goto(`${server.origin}/sign-in`);
    await target.getByLabel("Email").fill(who.email);
    await target.getByLabel("Password").fill(who.password);
    await target.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  function chat(headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${server.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${customerKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "What's the weather like in SF?" }] }),
    });
  }

  it("signs in as an admin and opens the overview from the dashboard's Admin link", async () => {
    await signIn(page, ADMIN);
    await page.waitForURL(`${server.origin}/keys`);
    await page.getByRole("link", { name: "Admin", exact: true }).click();
    await page.waitForURL(`${server.origin}/admin/overview`);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await shots.take(page, "overview-empty");
  });

  it("adds a channel pointing at a local upstream and tests it, its key never shown again", async () => {
    await page.getByRole("link", { name: "Channels" }).click();
    await page.waitForURL(`${server.origin}/admin/channels`);
    await page.getByRole("button", { name: "New channel" }).click();
    const form = page.getByRole("form", { name: "New channel" });
    await form.getByLabel("Kind").selectOption("openai");
    await form.getByLabel("Name", { exact: true }).fill("stub-openai");
    await form.getByLabel("Base URL").fill(upstream.baseUrl);
    await form.getByLabel(/^Upstream key/).fill(UPSTREAM_KEY);
    await form.getByLabel(/^Models/).fill(`${MODEL}=gpt-4.1-nano`);
    await form.getByRole("button", { name: "Add channel" }).click();
    await page.getByRole("status").getByText("Added stub-openai, serving 1 model.").waitFor();

    const card = page.getByRole("region", { name: "stub-openai" });
    await card.getByRole("button", { name: "Test" }).click();
    const result = card.getByTestId("channel-test-result");
    await result.getByText("Test passed").waitFor();
    expect(await result.innerText()).toMatch(/gpt-4\.1-nano answered HTTP 200 in \d+ ms/);
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(await card.innerText()).toContain("key set");
    await card.getByRole("button", { name: "Edit" }).click();
    expect(await card.getByLabel(/^New upstream key/).inputValue()).toBe("");
    expect(await page.content()).not.toContain(UPSTREAM_KEY);
    await shots.take(page, "channels-tested");
    await card.getByRole("button", { name: "Cancel" }).click();
  });

  it("leaves it the only endpoint of the model, reprices it, and the next call is billed at the new price", async () => {
    await page.getByRole("link", { name: "Models" }).click();
    await page.getByRole("link", { name: MODEL, exact: true }).click();
    await page.waitForURL(`${server.origin}/admin/models/${MODEL}`);
    const old = page.getByRole("article", { name: /via old-openai/ });
    await old.getByRole("button", { name: "Disable endpoint" }).click();
    await old.getByRole("button", { name: "Enable endpoint" }).waitFor();
    await page.getByRole("heading", { name: "Endpoints (1 routing of 2)" }).waitFor();

    const stub = page.getByRole("article", { name: /via stub-openai/ });
    await stub.getByRole("button", { name: "Edit prices" }).click();
    const editor = page.getByRole("form", { name: "Prices via stub-openai" });
    await editor.getByLabel("Input (USD / 1M)").fill("3");
    await editor.getByLabel("Output (USD / 1M)").fill("15");
    await editor.getByLabel("Markup (%)").fill("10");
    await shots.take(page, "model-price-editor");
    await editor.getByRole("button", { name: "Save prices" }).click();
    await editor.waitFor({ state: "detached" });
    expect(await stub.getByTestId("price-inputPrice").innerText()).toBe("$3.00");
    expect(await stub.getByTestId("price-outputPrice").innerText()).toBe("$15.00");
    await stub.getByRole("button", { name: "Price history" }).click();
    const history = stub.getByTestId("price-history");
    await history.locator("tbody tr").nth(1).waitFor();
    expect(await history.locator("tbody tr").first().innerText()).toContain(ADMIN.email);
    await shots.take(page, "model-price-history");

    const response = await chat({ "x-request-id": QUOTED_REQUEST_ID });
    const completion = (await response.json()) as { usage: { prompt_tokens: number; cost: number } };
    expect(response.status).toBe(200);
    expect(completion.usage).toMatchObject({ prompt_tokens: 79, cost: REPRICED_COST_USD });
    expect((upstream.received.at(-1)?.body as { model: string }).model).toBe("gpt-4.1-nano");
  });

  it("finds that call by the request id a customer would quote, with its account, channel and cost", async () => {
    await page.getByRole("link", { name: "Requests" }).click();
    await page.waitForURL(`${server.origin}/admin/requests`);
    await page.getByLabel("Request or generation id").fill(QUOTED_REQUEST_ID);
    await page.getByRole("button", { name: "Find" }).click();
    const found = page.getByTestId("found-request");
    // The usage writer commits within its window: the page is reloaded until the call is there.
    await expect
      .poll(
        async () => {
          if ((await found.count()) === 0) await page.reload();
          return found.count();
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe(1);
    expect(await found.getByTestId("found-cost").innerText()).toContain(`$${REPRICED_COST_USD}`);
    expect(await found.innerText()).toContain(CUSTOMER.email);
    expect(await found.innerText()).toContain("stub-openai");
    await shots.take(page, "request-found");
  });

  it("credits the customer with a note, shown in the audit log and on the customer's billing page", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("Email or id").fill("customer@");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: CUSTOMER.email }).click();
    await page.getByRole("heading", { name: CUSTOMER.email }).waitFor();
    // $5 less the call, to the nano-dollar, once the usage writer has written it.
    await expect
      .poll(async () => {
        await page.reload();
        return page.getByTestId("account-balance").innerText();
      })
      .toBe("$4.9997228");

    const credit = page.getByRole("region", { name: "Credit or debit" });
    await credit.getByLabel("Amount (USD)").fill("2.5");
    await credit.getByLabel(/^Note/).fill("Goodwill for the outage on 3 Dec");
    await credit.getByRole("button", { name: "Add credit" }).click();
    await credit.getByText("Posted $2.50. Balance now $7.4997228.").waitFor();
    await expect.poll(() => page.getByTestId("account-balance").innerText()).toBe("$7.4997228");
    await page.getByTestId("ledger").getByText("Goodwill for the outage on 3 Dec").waitFor();
    await shots.take(page, "user-credited");

    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Target").fill(CUSTOMER.email);
    await page.getByRole("button", { name: "Filter" }).click();
    const row = page.getByTestId("audit-log").locator("tbody tr").first();
    expect(await row.innerText()).toContain("credits.adjust");
    expect(await row.innerText()).toContain(ADMIN.email);
    expect(await row.innerText()).toContain("Goodwill for the outage on 3 Dec");
    await shots.take(page, "audit-log");

    customerContext = await (page.context().browser() as Browser).newContext({
      viewport: { width: 1440, height: 900 },
      locale: "en-GB",
      timezoneId: "UTC",
    });
    customerPage = await customerContext.newPage();
    await signIn(customerPage, CUSTOMER);
    await customerPage.waitForURL(`${server.origin}/keys`);
    await customerPage.goto(`${server.origin}/billing`);
    await customerPage.getByTestId("ledger").getByText("Goodwill for the outage on 3 Dec").waitFor();
    expect(await customerPage.getByRole("link", { name: "Admin" }).count()).toBe(0);
  });

  it("answers a customer 404 on every /admin page", async () => {
    for (const path of ["", ...ADMIN_PAGES]) {
      const response = await customerPage.goto(`${server.origin}/admin${path === "" ? "" : `/${path}`}`);
      expect(response?.status(), `/admin/${path}`).toBe(404);
      await customerPage.getByRole("heading", { name: "Page not found" }).waitFor();
    }
    const signedOut = await fetch(`${server.origin}/admin/users`, { redirect: "manual" });
    expect(signedOut.status).toBe(404);
  });

  it("disables the customer: the key is refused at once, the session ends, and sign-in says why", async () => {
    await page.goBack();
    await page.goto(`${server.origin}/admin/users?q=customer`);
    await page.getByRole("link", { name: CUSTOMER.email }).click();
    const status = page.getByRole("region", { name: "Disable the account" });
    await status.getByLabel(/^Reason/).fill("Chargeback under review");
    await status.getByRole("button", { name: "Disable account" }).click();
    await page.getByTestId("disabled-notice").waitFor();
    await shots.take(page, "user-disabled");

    const refused = await chat();
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("account_disabled");

    await customerPage.goto(`${server.origin}/billing`);
    await customerPage.waitForURL(/\/sign-in/);
    await signIn(customerPage, CUSTOMER);
    await customerPage.getByText("Chargeback under review").waitFor();
    expect(customerPage.url()).toContain("/sign-in");

    await page
      .getByRole("region", { name: "Account disabled" })
      .getByRole("button", { name: "Enable account" })
      .click();
    await page.getByRole("region", { name: "Disable the account" }).waitFor();
    expect((await chat()).status).toBe(200);
    await customerContext.close();
  });

  it("shows the overview with the day's money and the channel's health", async () => {
    await page.goto(`${server.origin}/admin/overview`);
    await page.getByTestId("money-chart").locator(".recharts-line").first().waitFor();
    expect(await page.getByTestId("overview-billed").innerText()).toMatch(/^\$0\.000\d+$/);
    await shots.take(page, "overview");
    await page.goto(`${server.origin}/admin/money`);
    await page.getByRole("button", { name: "Check every balance" }).click();
    await page
      .getByTestId("reconcile-result")
      .getByText(/^All \d+ accounts agree/)
      .waitFor();
    await shots.take(page, "money");
  });
});

const FIT_REQUEST_ID = "fit-check-request-0001";

describe("every console page at phone and desktop width", () => {
  let server: DashboardServer;
  let browser: Browser;
  let customerId: string;

  beforeAll(async () => {
    server = await startDashboardServer("admin-fit");
    const run = async (args: string[]) => {
      const result = await server.cli(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      return result.stdout.trim().split("\n").at(-1) ?? "";
    };
    await run(["user", "create", "--email", ADMIN.email, "--password", ADMIN.password, "--admin"]);
    // What a real console shows: long names, long notes, nine-decimal amounts, a promo code, a call.
    const created = await run([
      ...["user", "create", "--email", "a.very.long.address.for.billing@enterprise-customer.example"],
      ...["--password", CUSTOMER.password],
    ]);
    customerId = /id ([0-9a-f-]{36})/.exec(created)?.[1] ?? "";
    const email = ["--email", "a.very.long.address.for.billing@enterprise-customer.example"];
    await run([
      "credits",
      "add",
      ...email,
      "--usd",
      "1234.567891234",
      "--note",
      "Pilot credit agreed with procurement for the first quarter",
    ]);
    await run(["user", "rate-limit", ...email, "--rpm", "600"]);
    const key = await run(["key", "create", ...email, "--name", "nightly-batch-jobs-for-the-analytics-warehouse"]);
    await run([
      ...["channel", "add", "--kind", "openai-compatible", "--name", "eu-west-self-hosted-inference-cluster"],
      ...["--base-url", "http://127.0.0.1:9/v1", "--models", `${MODEL}=gpt-4.1-nano-2025-04-14`],
    ]);
    await run(["promo", "create", "--code", "WELCOME-BACK-2026", "--usd", "10", "--max-redemptions", "500"]);
    const response = await fetch(`${server.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-request-id": FIT_REQUEST_ID },
      body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(response.status).toBe(200);
    browser = await launchChromium(inject("chromiumPath"));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it.each([
    { name: "phone", width: 390, height: 844 },
    { name: "desktop", width: 1440, height: 900 },
  ])("fits $name ($width×$height), every control in reach", async (viewport) => {
    const context = await browser.newContext({ viewport, locale: "en-GB", timezoneId: "UTC" });
    const page = await context.newPage();
    const diagnostics = watchPage(page);
    const shots = new Screenshots(inject("screenshotFolder"), `admin-${viewport.name}`);
    try {
      await page.goto(`${server.origin}/sign-in`);
      await page.getByLabel("Email").fill(ADMIN.email);
      await page.getByLabel("Password").fill(ADMIN.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL(`${server.origin}/keys`);
      const pages = [
        ...ADMIN_PAGES.filter((name) => !name.startsWith("models/")),
        `models/${MODEL}`,
        "models/tollgate/echo",
      ];
      for (const path of [...pages, `users/${customerId}`, `requests?id=${FIT_REQUEST_ID}`]) {
        await page.goto(`${server.origin}/admin/${path}`, { waitUntil: "networkidle" });
        const name = path.startsWith("users/")
          ? "user-account"
          : path.startsWith("requests?")
            ? "request-found"
            : path.replace(/\//g, "-");
        await shots.take(page, name);
        expect(await horizontalOverflow(page), `${name} is wider than the window by (px)`).toBe(0);
        expect(await unreachableControls(page), `controls on ${name} out of reach`).toEqual([]);
        expect(await overflowingBoxes(page), `boxes on ${name} too narrow for their content`).toEqual([]);
      }
      // The forms that open in place fit too.
      await page.goto(`${server.origin}/admin/channels`, { waitUntil: "networkidle" });
      await page.getByRole("button", { name: "New channel" }).click();
      await page.getByRole("region", { name: "tollgate-demo" }).getByRole("button", { name: "Edit" }).click();
      await shots.take(page, "channels-forms-open");
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await unreachableControls(page)).toEqual([]);
      await page.goto(`${server.origin}/admin/models/tollgate/echo`, { waitUntil: "networkidle" });
      await page.getByRole("button", { name: "Edit prices" }).click();
      await shots.take(page, "model-editor-open");
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await unreachableControls(page)).toEqual([]);
      expect(diagnostics.consoleErrors).toEqual([]);
    } catch (error) {
      console.error(`Page at failure: ${page.url()}\n${diagnostics.report()}\nScreenshots: ${shots.folder}`);
      throw error;
    } finally {
      await context.close();
    }
  });
});
