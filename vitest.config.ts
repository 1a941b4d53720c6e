import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const alias = { "~": fileURLToPath(new URL("./src", import.meta.url)) };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Unit tests hold no process-wide state (no database, server or container): files share workers rather than
          // each paying for a fresh one and its imports, which was two thirds of this project's time.
          isolate: false,
          // As many as the integration project, which shares the first group with this one.
          maxWorkers: 2,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          // Integration tests start servers and databases; two cores, so two files at a time.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // Builds the dashboard once per run (when its sources changed) and checks that Chromium starts.
          globalSetup: ["test/e2e/global-setup.ts"],
          // One browser and one server at a time, in a group of its own (vitest runs groups one after another), so
          // that Chromium and the production server never compete with the other tests for the two cores.
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
