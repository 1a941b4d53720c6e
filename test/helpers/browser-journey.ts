import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, inject } from "vitest";
import { launchChromium, Screenshots, watchPage, type PageDiagnostics } from "./browser";

export interface BrowserJourney {
  context: BrowserContext;
  page: Page;
  diagnostics: PageDiagnostics;
  shots: Screenshots;
}

/**
 * One person's way through the pages in one desktop window (1440×900, British English, UTC), one step per test. Call
 * it in a `describe` after the hook that starts the server: it registers the hooks that open Chromium and close it
 * again, and that skip every step after a failed one (each builds on the last), printing the page, its errors and the
 * screenshots' folder. The fields are set once its `beforeAll` has run.
 */
export function browserJourney(name: string, options: { clipboardOrigin?: () => string } = {}): BrowserJourney {
  const journey = {} as BrowserJourney;
  let browser: Browser | undefined;
  let failed = false;

  beforeAll(async () => {
    browser = await launchChromium(inject("chromiumPath"));
    journey.context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      locale: "en-GB",
      timezoneId: "UTC",
    });
    if (options.clipboardOrigin !== undefined) {
      await journey.context.grantPermissions(["clipboard-read", "clipboard-write"], {
        origin: options.clipboardOrigin(),
      });
    }
    journey.page = await journey.context.newPage();
    journey.diagnostics = watchPage(journey.page);
    journey.shots = new Screenshots(inject("screenshotFolder"), name);
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(({ skip, onTestFailed }) => {
    if (failed) skip("an earlier step failed");
    onTestFailed(() => {
      failed = true;
      const { page, diagnostics, shots } = journey;
      console.error(`Page at failure: ${page?.url()}\n${diagnostics?.report()}\nScreenshots: ${shots?.folder}`);
    });
  });

  return journey;
}
