import { countTokens } from "gpt-tokenizer";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { horizontalOverflow, overflowingBoxes, type PageDiagnostics, type Screenshots } from "../helpers/browser";
import { browserJourney } from "../helpers/browser-journey";
import { startDashboardServer, type DashboardServer } from "../helpers/dashboard-server";
import { startReplayUpstream, type ReplayUpstream } from "../helpers/replay-upstream";
import { demoAnswer } from "~/server/gateway/providers/demo/demo-upstream";

/*
 * A customer tries models in the playground before writing code: a Markdown answer with highlighted code from the
 * demo model, the demo model beside Claude (its recorded thinking stream replayed by a local upstream), a long answer
 * stopped half way and billed for what it had produced, and each of those calls in Activity marked as the
 * playground's. The demo model pauses between words so a stream lasts long enough to stop.
 */

const EMAIL = "player@example.com";
const PASSWORD = "a long enough password";
const CLAUDE = "anthropic/claude-haiku-4.5";

/** USD amounts as the pages print them ("$0.000061"), as numbers to compare. */
const usd = (text: string) => Number(text.replace(/[$,]/g, ""));

describe("a customer tries models in the playground", () => {
  let server: DashboardServer;
  let upstream: ReplayUpstream;
  let page: Page;
  let diagnostics: PageDiagnostics;
  let shots: Screenshots;
  const billed: number[] = [];

  beforeAll(async () => {
    upstream = await startReplayUpstream();
    upstream.respondWith(() => "anthropic/thinking-stream");
    server = await startDashboardServer("playground", { DEMO_STREAM_DELAY_MS: "30" });
    const run = async (args: string[]) => {
      const result = await server.cli(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
    };
    await run([
      ...["channel", "add", "--kind", "anthropic", "--name", "anthropic-replay", "--base-url", upstream.baseUrl],
      ...["--api-key", "sk-ant-replayed", "--models", CLAUDE],
    ]);
    await run(["user", "create", "--email", EMAIL, "--password", PASSWORD]);
    await run(["credits", "add", "--email", EMAIL, "--usd", "5"]);
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  const journey = browserJourney("playground");
  beforeAll(() => ({ page, diagnostics, shots } = journey));

  const composer = () => page.getByLabel("Message", { exact: true });
  const answers = () => page.locator(".chat-message--assistant");

  /** Waits for every answer on the page to end, then for its billed cost to show. */
  async function answered(count: number): Promise<void> {
    await expect.poll(() => answers().count()).toBe(count);
    await expect.poll(() => page.locator(".answer[aria-busy='true']").count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.locator(".answer__cost[title='Billed']").count(), { timeout: 10_000 }).toBe(count);
  }

  it("signs in from the playground's address and comes back to it, with the demo model chosen", async () => {
    await page.goto(`${server.origin}/playground`);
    expect(page.url()).toBe(`${server.origin}/sign-in?next=%2Fplayground`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/playground`);
    expect(await page.getByRole("link", { name: "Playground", exact: true }).getAttribute("aria-current")).toBe("page");
    expect(await page.getByLabel("Model", { exact: true }).inputValue()).toBe("tollgate/echo");
    expect(await page.getByText("Send a message to start.").count()).toBe(1);
    await shots.take(page, "empty");
  });

  it("streams an answer rendered as Markdown with highlighted code, and shows its tokens and billed cost", async () => {
    await page.getByLabel("System prompt").fill("Answer in Markdown.");
    await composer().fill("Some **bold** words and code:\n```js\nconst answer = 42;\n```");
    await composer().press("Enter");
    await answered(1);
    const answer = answers().first();
    expect(await answer.locator(".markdown strong").innerText()).toBe("bold");
    expect(await answer.locator("pre code.hljs .hljs-keyword").first().innerText()).toBe("const");
    const footer = await answer.locator(".answer__footer").innerText();
    expect(footer).toMatch(/\d+ in · \d+ out/);
    billed.push(usd(await answer.locator(".answer__cost").innerText()));
    expect(billed[0]).toBeGreaterThan(0);
    await shots.take(page, "markdown-answer");
  });

  it("compares the demo model with Claude side by side, Claude's reasoning folded away", async () => {
    await page.getByRole("button", { name: "Clear conversation" }).click();
    await page.getByRole("button", { name: "Compare with another model" }).click();
    const second = page.getByLabel("Model 2");
    await second.fill(CLAUDE);
    await second.blur();
    expect(await second.inputValue()).toBe(CLAUDE);
    await page.getByLabel("Reasoning effort").selectOption("low");
    await composer().fill("Two names for a pet pelican, be brief");
    await page.getByRole("button", { name: "Send" }).click();
    await answered(2);

    const claude = page.getByRole("region", { name: "Conversation 2" }).locator(".chat-message--assistant");
    expect(await claude.locator(".markdown ol li").count()).toBe(2);
    expect(await claude.locator(".markdown strong").first().innerText()).toBe("Pouch");
    const reasoning = claude.locator("details.answer__reasoning");
    expect(await reasoning.getAttribute("open")).toBeNull();
    await reasoning.locator("summary").click();
    expect(await reasoning.innerText()).toContain("two names for a pet pelican");
    // The gateway turned the reasoning effort into Anthropic's thinking budget.
    const sent = upstream.received.at(-1)?.body as { thinking?: { type: string } };
    expect(sent.thinking?.type).toBe("enabled");
    for (const cost of await page.locator(".answer__cost").allInnerTexts()) billed.push(usd(cost));
    await shots.take(page, "side-by-side");
  });

  it("stops a long answer half way; the words it produced are billed", async () => {
    await page.getByRole("button", { name: "Remove" }).click();
    await page.getByRole("button", { name: "Clear conversation" }).click();
    await page.getByLabel("Reasoning effort").selectOption("");
    const words = Array.from({ length: 150 }, (_, index) => `word${index}`).join(" ");
    await composer().fill(words);
    await composer().press("Enter");
    const answer = answers().first();
    await expect.poll(() => answer.locator(".markdown").count()).toBe(1);
    await expect.poll(() => answer.locator(".markdown").innerText()).toContain("word3");
    await page.getByRole("button", { name: "Stop" }).click();
    await answered(1);
    expect(await answer.getByText("Stopped").count()).toBe(1);
    const shown = await answer.locator(".markdown").innerText();
    expect(shown).not.toContain("word149");
    // Billed (read back from the request log) for the words sent before the stop, not for the whole echo: the abort
    // reached the gateway and ended the upstream call.
    const out = Number(/(\d+) out/.exec(await answer.locator(".answer__footer").innerText())?.[1]);
    const whole = countTokens(demoAnswer([{ role: "user", content: words }]));
    expect(out).toBeGreaterThan(0);
    expect(out).toBeLessThan(whole / 2);
    const cost = usd(await answer.locator(".answer__cost").innerText());
    expect(cost).toBeGreaterThan(0);
    billed.push(cost);
    await shots.take(page, "stopped");
  });

  it("lists every playground call in Activity, marked as the playground's, at the prices shown", async () => {
    await page.getByRole("link", { name: "Activity", exact: true }).click();
    await page.waitForURL(`${server.origin}/activity`);
    const rows = page.getByTestId("request-log").locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(billed.length);
    expect(await rows.locator(".badge--playground").allInnerTexts()).toEqual(billed.map(() => "Playground"));
    const logged = (await rows.getByTestId("log-cost").allInnerTexts()).map(usd);
    expect(await rows.getByText("cancelled", { exact: true }).count()).toBe(1);
    expect([...logged].sort()).toEqual([...billed].sort());
    await shots.take(page, "activity");
  });

  it("fits a phone: conversation first, then the composer, then the settings", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.origin}/playground`);
    expect(await horizontalOverflow(page)).toBe(0);
    expect(await overflowingBoxes(page)).toEqual([]);
    const top = async (label: string) => (await page.getByLabel(label, { exact: true }).boundingBox())!.y;
    expect(await top("Model")).toBeLessThan(await top("Message"));
    expect(await top("Message")).toBeLessThan(await top("System prompt"));
    await shots.take(page, "phone");
    expect(diagnostics.consoleErrors).toEqual([]);
  });
});
