/**
 * Once per run, before any browser test: build the dashboard if its sources changed, find Chromium and prove it starts,
 * empty the screenshot folder, and have the migrated database each test's server starts as (helpers/pglite-template.ts). The tests read the browser's path and the folder with `inject()`.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ensureDashboardBuild } from "~/scripts/dashboard-build";
import { checkChromium, resolveChromium } from "../helpers/browser";
import { REPO_ROOT } from "../helpers/gateway-process";
import { preparePgliteTemplate } from "../helpers/pglite-template";

declare module "vitest" {
  export interface ProvidedContext {
    chromiumPath: string;
    screenshotFolder: string;
  }
}

export const SCREENSHOT_FOLDER = path.join(REPO_ROOT, "test-results", "e2e");

export default async function setup(project: TestProject): Promise<() => void> {
  const buildStarted = performance.now();
  // `npm test` type-checks before it runs the tests.
  ensureDashboardBuild({ typeChecked: true });
  const buildSeconds = (performance.now() - buildStarted) / 1000;

  const chromiumPath = await resolveChromium();
  const version = await checkChromium(chromiumPath);

  rmSync(SCREENSHOT_FOLDER, { recursive: true, force: true });
  project.provide("pgliteTemplate", await preparePgliteTemplate());
  project.provide("chromiumPath", chromiumPath);
  project.provide("screenshotFolder", SCREENSHOT_FOLDER);
  process.stdout.write(
    `e2e: dashboard build ready in ${buildSeconds.toFixed(1)} s; Chromium ${version} at ${chromiumPath}\n` +
      `e2e: screenshots go to ${SCREENSHOT_FOLDER}\n`,
  );
  return () => process.stdout.write(`e2e: screenshots in ${SCREENSHOT_FOLDER}\n`);
}
