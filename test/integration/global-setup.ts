/**
 * Once per run, before any integration test: the migrated embedded database every fresh PGlite of the run starts as
 * (helpers/pglite-template.ts).
 */
import type { TestProject } from "vitest/node";
import { preparePgliteTemplate } from "../helpers/pglite-template";

export default async function setup(project: TestProject): Promise<void> {
  project.provide("pgliteTemplate", await preparePgliteTemplate());
}
