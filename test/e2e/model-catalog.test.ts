import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Screenshots } from "../helpers/browser";
import { browserJourney } from "../helpers/browser-journey";
import { startDashboardServer, type DashboardServer } from "../helpers/dashboard-server";

/*
 * A visitor who has not signed up shops for a model: finds it on /models by searching and filtering by price, opens
 * its page, reads its prices and providers, and copies its id. The operator has connected OpenAI and Anthropic
 * channels (their upstreams are never called here) and the echo model has served a few calls, so its page has a
 * history to chart.
 */

const EMAIL = "visitor-stats@example.com";
const OPENAI_MODELS = ["openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-4o-mini", "openai/o4-mini"];
const ANTHROPIC_MODELS = ["anthropic/claude-haiku-4.5", "anthropic/claude-sonnet-4.5"];

describe("a visitor finds a model and copies its id, without signing in", () => {
  let server: DashboardServer;
  let page: Page;
  let shots: Screenshots;

  beforeAll(async () => {
    // Statistics reach the database every half second, so the echo model's history shows the calls below.
    server = await startDashboardServer("catalog", { CHANNEL_STATS_FLUSH_MS: "500" });
    const run = async (args: string[]) => {
      const result = await server.cli(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      return result.stdout.trim().split("\n").at(-1) ?? "";
    };
    await run([
      ...["channel", "add", "--kind", "openai", "--name", "openai-main", "--base-url", "http://127.0.0.1:9/v1"],
      ...["--api-key", "sk-not-called", "--models", OPENAI_MODELS.join(",")],
    ]);
    await run([
      ...["channel", "add", "--kind", "anthropic", "--name", "anthropic-main", "--base-url", "http://127.0.0.1:9/v1"],
      ...["--api-key", "sk-ant-not-called", "--models", ANTHROPIC_MODELS.join(",")],
    ]);
    await run(["user", "create", "--email", EMAIL, "--password", "a long enough password"]);
    await run(["credits", "add", "--email", EMAIL, "--usd", "1"]);
    const key = await run(["key", "create", "--email", EMAIL, "--name", "stats"]);
    for (let call = 0; call < 5; call++) {
      const response = await fetch(`${server.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        // Streamed and not: a streamed answer's first token is timed.
        body: JSON.stringify({
          model: "tollgate/echo",
          stream: call % 2 === 0,
          messages: [{ role: "user", content: `call ${call}` }],
        }),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  const journey = browserJourney("model-catalog", { clipboardOrigin: () => server.origin });
  beforeAll(() => ({ page, shots } = journey));

  const modelNames = () => page.locator(".catalog-item__id").allInnerTexts();

  it("starts on the landing page: live counts, the cheapest and the most capable models, the ways in", async () => {
    await page.goto(`${server.origin}/`);
    expect(await page.getByTestId("catalog-counts").innerText()).toBe(
      "6 models from 2 providers, from $0.15 per million tokens",
    );
    const cheapest = page.getByRole("region", { name: "Cheapest" });
    expect(await cheapest.getByRole("link").allInnerTexts()).toEqual([
      "OpenAI: GPT-4o-mini",
      "OpenAI: GPT-4.1 Mini",
      "OpenAI: o4 Mini",
    ]);
    const capable = page.getByRole("region", { name: "Most capable" });
    expect((await capable.getByRole("link").allInnerTexts())[0]).toBe("Anthropic: Claude Sonnet 4.5");
    await page.getByRole("link", { name: "Read the docs" }).waitFor();
    await page.getByRole("link", { name: "Create an account" }).waitFor();
    await shots.take(page, "landing");
    await page.getByRole("link", { name: "6 models" }).click();
    await page.waitForURL(`${server.origin}/models`);
  });

  it("lists every model the operator connected, with prices, on a page that needs no account", async () => {
    await page.goto(`${server.origin}/models`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Models");
    expect((await modelNames()).sort()).toEqual([...OPENAI_MODELS, ...ANTHROPIC_MODELS, "tollgate/echo"].sort());
    // The navigation marks the page, and offers sign-in rather than a dashboard.
    expect(await page.getByRole("link", { name: "Models" }).getAttribute("aria-current")).toBe("page");
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    const card = page.locator(".catalog-item").filter({ hasText: "openai/gpt-4.1-mini" });
    expect(await card.innerText()).toContain("$0.40 / 1M");
    await shots.take(page, "catalog");
  });

  it("narrows the list by search and by price, keeps the filters in the address, and sorts by price", async () => {
    await page.getByLabel("Search").fill("gpt");
    await expect.poll(modelNames).toEqual(["openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-4o-mini"]);
    await page.getByLabel("Max input price ($ / 1M tokens)").fill("0.5");
    await expect.poll(modelNames).toEqual(["openai/gpt-4.1-mini", "openai/gpt-4o-mini"]);
    await page.getByLabel("Sort by").selectOption("price-asc");
    await expect.poll(modelNames).toEqual(["openai/gpt-4o-mini", "openai/gpt-4.1-mini"]);
    expect(await page.getByText("2 of 7 models").isVisible()).toBe(true);
    await shots.take(page, "catalog-filtered");

    const address = new URL(page.url());
    expect(Object.fromEntries(address.searchParams)).toEqual({ q: "gpt", max_price: "0.5", sort: "price-asc" });
    // The filtered view survives a reload: it can be bookmarked or shared.
    await page.reload();
    await expect.poll(modelNames).toEqual(["openai/gpt-4o-mini", "openai/gpt-4.1-mini"]);
    expect(await page.getByLabel("Search").inputValue()).toBe("gpt");
  });

  it("says when nothing matches and clears the filters", async () => {
    await page.getByLabel("Search").fill("no such model anywhere");
    await page.getByText("No model matches these filters.").waitFor();
    await shots.take(page, "catalog-empty");
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(async () => (await modelNames()).length).toBe(7);
    expect(new URL(page.url()).search).toBe("");
  });

  it("opens the model's page: prices, providers and a code sample, and copies its id", async () => {
    await page.getByLabel("Search").fill("gpt-4o-mini");
    await page.getByRole("link", { name: "OpenAI: GPT-4o-mini" }).click();
    await page.waitForURL(`${server.origin}/models/openai/gpt-4o-mini`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("OpenAI: GPT-4o-mini");
    const prices = page.getByRole("region", { name: "Prices" });
    expect(await prices.getByRole("row", { name: /Input/ }).innerText()).toContain("$0.15");
    expect(await prices.getByRole("row", { name: /Output/ }).innerText()).toContain("$0.60");
    const providers = page.getByTestId("provider-table");
    expect(await providers.innerText()).toContain("openai");
    // No call has gone to it: the history says so instead of drawing an empty chart.
    await page.getByText("No calls in the last 24 hours").waitFor();
    const sample = await page.locator(".code-samples pre").innerText();
    expect(sample).toContain(`${server.origin}/v1/chat/completions`);
    expect(sample).toContain('"model": "openai/gpt-4o-mini"');

    await page.getByRole("button", { name: "Copy id" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("openai/gpt-4o-mini");
    await page.getByRole("tab", { name: "Python" }).click();
    expect(await page.locator(".code-samples pre").innerText()).toContain('model="openai/gpt-4o-mini"');
    await shots.take(page, "model-page");
  });

  it("charts a used model's last 24 hours from the channel statistics", async () => {
    await expect
      .poll(
        async () => {
          await page.goto(`${server.origin}/models/tollgate/echo`);
          return page.getByTestId("history-uptimePercent").count();
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(1);
    await page.locator("[data-testid=history-firstTokenP50Ms] .recharts-line-dot").first().waitFor();
    // The hour with calls is drawn (a dot: the hours around it had none).
    await page.locator("[data-testid=history-uptimePercent] .recharts-line-dot").first().waitFor();
    expect(await page.getByTestId("provider-table").innerText()).toMatch(/100%/);
    await shots.take(page, "model-page-history");
  });

  it("answers 404 for a model that is not listed", async () => {
    const response = await page.goto(`${server.origin}/models/openai/no-such-model`);
    expect(response?.status()).toBe(404);
  });

  it("reads the docs: samples with this server's address, a tab per language, copied whole", async () => {
    await page.goto(`${server.origin}/models`);
    await page.getByRole("link", { name: "Docs" }).click();
    await page.waitForURL(`${server.origin}/docs`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Quick start");
    expect(await page.getByRole("link", { name: "Quick start" }).getAttribute("aria-current")).toBe("page");
    // The cheapest connected chat model is the example; the base URL is this server's.
    const curl = await page.locator(".code-samples pre").first().innerText();
    expect(curl).toContain(`curl ${server.origin}/v1/chat/completions`);
    expect(curl).toContain('"model": "openai/gpt-4o-mini"');
    await page.getByRole("tab", { name: "Vercel AI SDK" }).first().click();
    const aiSdk = await page.locator(".code-samples pre").first().innerText();
    expect(aiSdk).toContain("createOpenAICompatible");
    await page.getByRole("button", { name: "Copy Vercel AI SDK" }).first().click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(aiSdk);
    await page.locator(".docs-keys").getByRole("link", { name: "create an account" }).waitFor();
    await shots.take(page, "docs-quick-start");

    await page.getByRole("navigation", { name: "Docs" }).getByRole("link", { name: "Tools" }).click();
    await page.waitForURL(`${server.origin}/docs/tools`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Tools");
    expect(await page.locator(".code-samples pre").first().innerText()).toContain('"tools": [');
    await shots.take(page, "docs-tools");
    expect((await page.goto(`${server.origin}/docs/no-such-page`))?.status()).toBe(404);
  });

  it("shows a signed-in reader's keys on the quick start", async () => {
    await page.goto(`${server.origin}/sign-in`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill("a long enough password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/keys$/);
    await page.goto(`${server.origin}/docs`);
    const keys = page.getByRole("region", { name: "Your keys" });
    await keys.waitFor();
    expect(await keys.innerText()).toMatch(/stats\s+sk-gw-[0-9a-f]{4,}…/);
    await shots.take(page, "docs-signed-in");
  });

  it("follows the system's dark theme", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    for (const [pathname, name] of [
      ["/", "dark-landing"],
      ["/models", "dark-models"],
      ["/models/tollgate/echo", "dark-model-echo"],
      ["/docs/streaming", "dark-docs"],
      ["/activity", "dark-activity"],
    ] as const) {
      await page.goto(`${server.origin}${pathname}`, { waitUntil: "networkidle" });
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background, pathname).toBe("rgb(15, 15, 18)");
      await shots.take(page, name);
    }
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("serves the same catalog as JSON without a key", async () => {
    const response = await fetch(`${server.origin}/api/v1/models`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { id: string }[] };
    expect(body.data.map((model) => model.id).sort()).toEqual(
      [...OPENAI_MODELS, ...ANTHROPIC_MODELS, "tollgate/echo"].sort(),
    );
  });
});
