import { readFile } from "node:fs/promises";
import { createParser } from "eventsource-parser";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import type { PageDiagnostics, Screenshots } from "../helpers/browser";
import { browserJourney } from "../helpers/browser-journey";
import { startDashboardServer, type DashboardServer } from "../helpers/dashboard-server";

/*
 * A new customer's first hour, in a real Chromium against the production build: sign up, get credit from the
 * operator, create a key for the echo model on /keys and copy it, call /v1 with it (plain and streamed), see exactly
 * those two calls' cost leave the balance on /billing and show as the key's spend on /keys, sign out. Each step needs
 * the ones before it: after a failure the rest skip.
 */

const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery staple";

/** "$4.999963" → 4_999_963_000n nano-USD: the billing page shows exact amounts, at least cents. */
function nanoFromDisplayed(text: string): bigint {
  const match = /^\$(\d[\d,]*)\.(\d{2,9})$/.exec(text.trim());
  if (match === null) throw new Error(`not a dollar amount: ${JSON.stringify(text)}`);
  const [, whole = "", fraction = ""] = match;
  return BigInt(whole.replaceAll(",", "")) * 1_000_000_000n + BigInt(fraction.padEnd(9, "0"));
}

/** `usage.cost` is the double nearest an exact nano-dollar amount. */
function nanoFromCost(cost: number): bigint {
  const [whole = "0", fraction = ""] = cost.toFixed(9).split(".");
  return BigInt(whole) * 1_000_000_000n + BigInt(fraction);
}

interface Completion {
  choices: { message: { content: string } }[];
  usage: { cost: number };
}

interface Chunk {
  choices: { delta: { content?: string } }[];
  usage?: { cost: number } | null;
}

describe("a new customer, from sign-up to a metered call and back out", () => {
  let server: DashboardServer;
  let page: Page;
  let diagnostics: PageDiagnostics;
  let shots: Screenshots;
  let apiKey = "";
  let balanceBeforeCalls = 0n;
  const costs: bigint[] = [];

  beforeAll(async () => {
    server = await startDashboardServer("journey");
  });

  afterAll(async () => {
    await server?.stop();
  });

  const journey = browserJourney("customer-journey", { clipboardOrigin: () => server.origin });
  beforeAll(() => ({ page, diagnostics, shots } = journey));

  it("signs up with email and password and lands on the keys page, signed in", async () => {
    await page.goto(`${server.origin}/`);
    await shots.take(page, "landing");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(`${server.origin}/sign-up`);
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await shots.take(page, "sign-up-filled");
    await page.getByRole("button", { name: "Create account" }).click();

    await page.waitForURL(`${server.origin}/keys`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("API keys");
    await expect.poll(() => page.getByText(EMAIL).isVisible()).toBe(true);
    expect(await page.getByTestId("balance").innerText()).toBe("$0.00");
    await shots.take(page, "keys-new-account");
  });

  it("gets $5 of credit from the operator's CLI and sees it on the keys page", async () => {
    const added = await server.cli(["credits", "add", "--email", EMAIL, "--usd", "5"]);
    expect(added.code, added.stderr).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByTestId("balance").innerText()).toBe("$5.00");
    balanceBeforeCalls = 5_000_000_000n;
  });

  it("creates a key for the echo model only through the form and copies it from the page", async () => {
    const form = page.getByRole("region", { name: "Create a key" });
    await form.getByLabel("Name").fill("laptop");
    await form.getByText("Models and rate limits").click();
    await form.getByLabel("Add a model").selectOption("tollgate/echo");
    await form.getByRole("button", { name: "Add", exact: true }).click();
    await form.getByRole("button", { name: "Remove tollgate/echo" }).waitFor();
    await form.getByRole("button", { name: "Create key" }).click();

    const created = page.getByRole("status").filter({ hasText: "created" });
    await created.waitFor();
    apiKey = await created.getByLabel("New API key").inputValue();
    expect(apiKey).toMatch(/^sk-gw-\S{20,}$/);
    // Copy it as a person would: the button puts the key on the clipboard.
    // Exact names: "Copied" is also part of the "I have copied it" button beside it.
    await created.getByRole("button", { name: "Copy", exact: true }).click();
    await created.getByRole("button", { name: "Copied", exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(apiKey);

    const row = page.getByRole("region", { name: "Your keys" }).getByRole("row").filter({ hasText: "laptop" });
    await row.waitFor();
    expect(await row.innerText()).toContain(apiKey.slice(0, 14));
    expect(await row.innerText()).toContain("Only tollgate/echo");
    await shots.take(page, "keys-created");
  });

  it("calls /v1/chat/completions with the copied key, once plain and once streamed", async () => {
    const call = (body: Record<string, unknown>) =>
      fetch(`${server.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tollgate/echo", ...body }),
      });

    const plain = await call({ messages: [{ role: "user", content: "Hello from the browser test" }] });
    expect(plain.status).toBe(200);
    const completion = (await plain.json()) as Completion;
    expect(completion.choices[0]?.message.content).toContain("Hello from the browser test");
    expect(completion.usage.cost).toBeGreaterThan(0);
    costs.push(nanoFromCost(completion.usage.cost));

    const streamed = await call({
      messages: [{ role: "user", content: "Stream this back, please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toContain("text/event-stream");
    const events: string[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event.data) });
    parser.feed(await streamed.text());
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as Chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toContain("Stream this back, please");
    const usage = chunks.flatMap((chunk) => (chunk.usage == null ? [] : [chunk.usage]));
    expect(usage).toHaveLength(1);
    expect(usage[0]?.cost).toBeGreaterThan(0);
    costs.push(nanoFromCost(usage[0]?.cost ?? 0));
  });

  it("sees the balance on /billing go down by exactly the two calls' cost", async () => {
    await page.getByRole("link", { name: "Billing" }).click();
    await page.waitForURL(`${server.origin}/billing`);
    const expected = balanceBeforeCalls - costs.reduce((sum, cost) => sum + cost, 0n);
    // The usage writer debits in batches: look again (a reload, as a person would) until both calls are in.
    await expect
      .poll(
        async () => {
          await page.reload();
          return nanoFromDisplayed(await page.getByTestId("billing-balance").innerText());
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(expected);
    // Usage shows as one line per day and model, saying how many requests it covers and what they cost together.
    // (Two lines only if the calls straddled midnight UTC.)
    const usageLines = await page.getByTestId("ledger").getByTestId("usage-line").allInnerTexts();
    const covered = usageLines.map((line) => Number(/tollgate\/echo · (\d+) requests?/.exec(line)?.[1] ?? 0));
    expect(covered.reduce((sum, count) => sum + count, 0)).toBe(2);
    await shots.take(page, "billing-after-calls");
  });

  it("finds both calls on /activity: in the totals, the chart, the log with their exact cost, and the CSV", async () => {
    await page.getByRole("link", { name: "Activity" }).click();
    await page.waitForURL(`${server.origin}/activity`);
    const spent = costs.reduce((sum, cost) => sum + cost, 0n);
    // Both calls were written by the time /billing showed them (the rollup is written in the same transaction).
    expect(await page.getByTestId("total-requests").innerText()).toBe("2");
    expect(nanoFromDisplayed(await page.getByTestId("total-spend").innerText())).toBe(spent);
    await page.getByTestId("spend-chart").locator(".recharts-bar-rectangle").first().waitFor();

    const log = page.getByTestId("request-log");
    const logged = await log.getByTestId("log-cost").allInnerTexts();
    expect(logged.map(nanoFromDisplayed).sort()).toEqual([...costs].sort());
    expect(await log.getByRole("row").filter({ hasText: "laptop" }).count()).toBe(2);
    await shots.take(page, "activity");

    // A row opens its detail: the request id to quote and the attempt that answered.
    const firstRow = log.locator("tbody tr").first();
    const id = await firstRow.getAttribute("data-generation-id");
    await firstRow.click();
    const panel = page.getByTestId("generation-panel");
    await panel.getByText("Upstream attempts").waitFor();
    expect(await panel.getByTestId("generation-id").innerText()).toBe(id);
    // The call's request id (sent back as x-request-id) is stored with it, for support to search by.
    expect(await panel.getByTestId("request-id").innerText()).toMatch(/^req-/);
    await shots.take(page, "activity-request-detail");

    // The CSV the page links to, downloaded as the browser downloads it.
    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download requests (CSV)" }).click();
    const csv = await readFile(await (await download).path(), "utf8");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]?.startsWith("generation_id,request_id,created_at,model")).toBe(true);
    expect(lines).toHaveLength(3);
    const cost = lines[0]!.split(",").indexOf("cost_usd");
    expect(
      lines
        .slice(1)
        .map((line) => parseUsdToNano(line.split(",")[cost]!))
        .sort(),
    ).toEqual([...costs].sort());
  });

  it("sees on /keys what the key spent this period, to the nano-dollar, and its last 14 days drawn", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.waitForURL(`${server.origin}/keys`);
    const row = page.getByRole("region", { name: "Your keys" }).getByRole("row").filter({ hasText: "laptop" });
    const spent = costs.reduce((sum, cost) => sum + cost, 0n);
    expect(nanoFromDisplayed(await row.locator('td[data-label="Spent this period"]').innerText())).toBe(spent);
    expect(await row.locator('td[data-label="Last used (UTC)"]').innerText()).not.toBe("Never");
    const sparkline = row.getByRole("img", { name: /^Spend over the last 14 days: \$0\.0\d+ total$/ });
    expect(await sparkline.locator("path.recharts-area-curve").count()).toBe(1);
    await shots.take(page, "keys-after-calls");
  });

  it("signs out through the header and is sent to sign in when opening /keys again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${server.origin}/`);
    await expect.poll(() => page.getByRole("link", { name: "Create an account" }).isVisible()).toBe(true);
    await shots.take(page, "signed-out");

    await page.goto(`${server.origin}/keys`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Sign in");
    await shots.take(page, "keys-after-sign-out");
  });

  it("signs in again from a bookmarked page and lands back on it", async () => {
    await page.goto(`${server.origin}/billing`);
    expect(page.url()).toBe(`${server.origin}/sign-in?next=%2Fbilling`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/billing`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Billing");
    // The header marks where the customer is, and a wrong address keeps it.
    expect(await page.getByRole("link", { name: "Billing" }).getAttribute("aria-current")).toBe("page");
    const errorsBefore = diagnostics.consoleErrors.length;
    const missing = await page.goto(`${server.origin}/no-such-page`);
    expect(missing?.status()).toBe(404);
    // Chromium logs the 404 it was sent to on purpose: that one is not an error of the pages.
    diagnostics.consoleErrors.splice(errorsBefore);
    await page.getByRole("link", { name: "Dashboard" }).waitFor();
    await shots.take(page, "not-found-signed-in");
  });

  it("renames the account on /account and signs out of every session at once", async () => {
    await page.goto(`${server.origin}/billing`);
    await page.getByRole("link", { name: "Account" }).click();
    await page.waitForURL(`${server.origin}/account`);
    const profile = page.getByRole("region", { name: "Profile" });
    await profile.getByLabel("Name").fill("Ada King");
    await profile.getByRole("button", { name: "Save" }).click();
    await profile.getByText("Saved.").waitFor();
    await page.reload();
    expect(await page.getByRole("region", { name: "Profile" }).getByLabel("Name").inputValue()).toBe("Ada King");
    await shots.take(page, "account");

    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await page.waitForURL(`${server.origin}/sign-in`);
    // The browser still holds its session cookie, but that session is over.
    await page.goto(`${server.origin}/keys`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
  });

  it("deletes the account after reading what is lost: its key is refused at once and it cannot sign in", async () => {
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/keys`);
    await page.goto(`${server.origin}/account`);
    const summary = page.getByTestId("deletion-summary");
    await summary.waitFor();
    const balance = nanoFromDisplayed(await summary.locator("strong").innerText());
    expect(balance).toBe(balanceBeforeCalls - costs.reduce((sum, cost) => sum + cost, 0n));
    expect(await summary.innerText()).toContain("your 1 key is revoked at once");
    await page.getByRole("button", { name: "Delete my account…" }).click();
    await page.getByLabel("Your password, to confirm").fill(PASSWORD);
    await shots.take(page, "account-delete-confirm");
    await page.getByRole("button", { name: "Delete my account for good" }).click();
    await page.waitForURL(`${server.origin}/?deleted=1`);
    await page.getByText("Your account was deleted and its keys revoked.").waitFor();

    const call = await fetch(`${server.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "still there?" }] }),
    });
    expect(call.status).toBe(401);
    await page.goto(`${server.origin}/sign-in`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong email or password.").waitFor();
    // Guessing on: after five failures for the account the form stops checking passwords for a while.
    for (let failure = 2; failure <= 5; failure++) {
      await page.getByLabel("Password").fill(`guess ${failure}`);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Sign in" }).and(page.locator(":enabled")).waitFor();
    }
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Too many failed sign-ins for this account or from this network.", { exact: false }).waitFor();
    await shots.take(page, "sign-in-throttled");
  });

  it("logged no errors in the browser on the way", () => {
    expect(diagnostics.consoleErrors).toEqual([]);
  });
});
