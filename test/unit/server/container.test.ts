import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ContainerDuringBuildError, getContainer } from "~/server/container";

const parent = mkdtempSync(path.join(tmpdir(), "tollgate-container-"));

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(parent, { recursive: true, force: true });
});

describe("getContainer", () => {
  it("refuses while `next build` prerenders, before it opens anything", async () => {
    const dataDir = path.join(parent, "data");
    vi.stubEnv("NEXT_PHASE", "phase-production-build");
    vi.stubEnv("DATA_DIR", dataDir);
    vi.stubEnv("PGLITE_DIR", path.join(dataDir, "pglite"));
    vi.stubEnv("DATABASE_URL", "");
    await expect(getContainer()).rejects.toBeInstanceOf(ContainerDuringBuildError);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("tollgate.container")]).toBeUndefined();
    // Had a container been made, its secrets file and database would be under DATA_DIR by now.
    expect(existsSync(dataDir)).toBe(false);
  });
});
