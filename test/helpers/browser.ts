/**
 * Chromium for the browser tests (test/e2e): which binary, how it starts, what a page logged, screenshots, and
 * whether a control can be reached without scrolling sideways.
 *
 * The browser arrives with `npm install`: `@sparticuz/chromium` ships a self-contained Chromium inside its npm
 * package, unpacked here once per version into the temp folder. `E2E_CHROMIUM_PATH` points at another binary
 * instead (Debian's is /usr/bin/chromium). Never `npx playwright install`: that downloads from outside the registry.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { REPO_ROOT } from "./gateway-process";

/** Headless and offline: without the background-networking flags Chromium keeps calling Google's hosts. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-dev-shm-usage",
  "--no-first-run",
];

const NO_BROWSER_HELP =
  "The browser tests need Chromium. `npm install` brings one (the devDependency @sparticuz/chromium); " +
  "or install Debian's with `apt-get update && apt-get install -y chromium` and run with " +
  "E2E_CHROMIUM_PATH=/usr/bin/chromium.";

function sparticuzVersion(): string {
  const manifest = path.join(REPO_ROOT, "node_modules", "@sparticuz", "chromium", "package.json");
  if (!existsSync(manifest)) throw new Error(`@sparticuz/chromium is not installed. ${NO_BROWSER_HELP}`);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/**
 * The Chromium binary to drive. @sparticuz/chromium unpacks into `os.tmpdir()` and reuses whatever it finds there, so
 * it unpacks into a private folder first, renamed into place whole: a folder of its own per version, never half
 * written, never another version's binary.
 */
export async function resolveChromium(): Promise<string> {
  const override = process.env.E2E_CHROMIUM_PATH?.trim();
  if (override !== undefined && override !== "") {
    if (!existsSync(override)) throw new Error(`E2E_CHROMIUM_PATH=${override} does not exist. ${NO_BROWSER_HELP}`);
    return override;
  }
  const folder = path.join(tmpdir(), `tollgate-chromium-${sparticuzVersion()}`);
  const binary = path.join(folder, "chromium");
  if (existsSync(binary)) return binary;
  const partial = `${folder}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const previousTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = partial;
  try {
    const { default: sparticuz } = await import("@sparticuz/chromium");
    await sparticuz.executablePath();
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`@sparticuz/chromium could not unpack its browser (${String(error)}). ${NO_BROWSER_HELP}`);
  } finally {
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
  }
  try {
    renameSync(partial, folder);
  } catch {
    // Another run unpacked the same version meanwhile: use that one.
    rmSync(partial, { recursive: true, force: true });
  }
  return binary;
}

/**
 * Starts Chromium, trying once more if the first start fails: on a busy 2-core machine it has been seen to crash
 * (SIGSEGV) while starting, once, and start at once on the next try. A browser that cannot start twice is a real
 * problem, reported with how to get one.
 */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const launch = () => chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
  try {
    return await launch();
  } catch {
    try {
      return await launch();
    } catch (error) {
      throw new Error(`Chromium at ${executablePath} did not start: ${String(error)}\n${NO_BROWSER_HELP}`);
    }
  }
}

/** Starts the browser, renders a line of HTML and closes it: a setup that fails here says why, before any test. */
export async function checkChromium(executablePath: string): Promise<string> {
  const browser = await launchChromium(executablePath);
  try {
    const page = await browser.newPage();
    await page.setContent("<p id='probe'>rendered</p>");
    const text = await page.locator("#probe").innerText();
    if (text !== "rendered") throw new Error(`Chromium at ${executablePath} did not render a page. ${NO_BROWSER_HELP}`);
    return browser.version();
  } finally {
    await browser.close();
  }
}

export interface PageDiagnostics {
  consoleErrors: string[];
  failedRequests: string[];
  /** Both lists, for a failed test's output. */
  report(): string;
}

/** Collects what a page logged as an error, threw, or failed to load, from now on. */
export function watchPage(page: Page): PageDiagnostics {
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: uncaught ${error.name}: ${error.message}`));
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "failed";
    // Chromium aborts what a navigation leaves behind (Next.js prefetches): not a failure of the page.
    if (reason !== "net::ERR_ABORTED") failedRequests.push(`${request.method()} ${request.url()}: ${reason}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) {
      failedRequests.push(`${response.request().method()} ${response.url()}: HTTP ${response.status()}`);
    }
  });
  return {
    consoleErrors,
    failedRequests,
    report() {
      const list = (items: string[]) => (items.length === 0 ? "  (none)" : items.map((item) => `  ${item}`).join("\n"));
      return `Console errors:\n${list(consoleErrors)}\nFailed requests:\n${list(failedRequests)}`;
    },
  };
}

/** Full-page screenshots, numbered in the order taken, into one folder per test file. */
export class Screenshots {
  private count = 0;
  readonly folder: string;

  constructor(root: string, name: string) {
    this.folder = path.join(root, name);
    mkdirSync(this.folder, { recursive: true });
  }

  async take(page: Page, name: string): Promise<string> {
    this.count += 1;
    const file = path.join(this.folder, `${String(this.count).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }
}

/** How far the page is wider than the window (0 when it fits): a person would have to scroll sideways. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
}

/**
 * Cards and table wrappers whose content is wider than they are: text spilling over a card's edge, or a table hidden
 * partly behind its scrolling box.
 */
export function overflowingBoxes(page: Page, selector = ".card, .table-wrap"): Promise<string[]> {
  return page.evaluate((boxes) => {
    const problems: string[] = [];
    for (const box of document.querySelectorAll<HTMLElement>(boxes)) {
      if (box.scrollWidth <= box.clientWidth + 1) continue;
      const heading =
        box.querySelector("h1, h2, h3")?.textContent ?? box.closest(".card")?.querySelector("h2")?.textContent;
      problems.push(
        `<${box.tagName.toLowerCase()} class="${box.className}">${heading == null ? "" : ` "${heading}"`}: ` +
          `content ${box.scrollWidth} px wide in ${box.clientWidth} px`,
      );
    }
    return problems;
  }, selector);
}

/**
 * Why a person could not see and click this element without scrolling sideways, or null when they can: it must lie
 * inside the window's width, inside every ancestor that clips or scrolls sideways (a table in a scrolling box), and its
 * centre must hit it rather than something drawn over it. Scrolls the window vertically only.
 */
export function whyUnreachable(locator: Locator): Promise<string | null> {
  return locator.evaluate((element) => {
    const describe = (node: Element) =>
      `<${node.tagName.toLowerCase()}${node.className === "" ? "" : ` class="${String(node.className)}"`}>`;
    const first = element.getBoundingClientRect();
    window.scrollTo(0, window.scrollY + first.top + first.height / 2 - window.innerHeight / 2);
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return "it has no size";
    const span = (box: DOMRect) => `x ${Math.round(box.left)}–${Math.round(box.right)}`;
    if (rect.left < -0.5 || rect.right > window.innerWidth + 0.5) {
      return `it spans ${span(rect)}, outside the ${window.innerWidth} px window`;
    }
    for (let ancestor = element.parentElement; ancestor !== null; ancestor = ancestor.parentElement) {
      if (getComputedStyle(ancestor).overflowX === "visible") continue;
      const box = ancestor.getBoundingClientRect();
      if (rect.left < box.left - 0.5 || rect.right > box.right + 0.5) {
        return `it spans ${span(rect)} but ${describe(ancestor)} shows only ${span(box)}`;
      }
    }
    const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
    if (hit === null || !element.contains(hit))
      return `its centre is covered by ${hit === null ? "nothing" : describe(hit)}`;
    return null;
  });
}

/** Every visible link, button and form field on the page that `whyUnreachable` finds a reason for. */
export async function unreachableControls(page: Page): Promise<string[]> {
  const problems: string[] = [];
  for (const control of await page.locator("a[href], button, input:not([type=hidden]), select, textarea").all()) {
    if (!(await control.isVisible())) continue;
    const reason = await whyUnreachable(control);
    if (reason === null) continue;
    const label = await control.evaluate(
      (element) =>
        (element as HTMLElement).innerText?.trim() ||
        element.getAttribute("aria-label") ||
        element.getAttribute("name") ||
        element.tagName.toLowerCase(),
    );
    problems.push(`"${label.slice(0, 40)}": ${reason}`);
  }
  return problems;
}
