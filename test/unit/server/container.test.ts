import { afterEach, describe, expect, it, vi } from "vitest";
import { ContainerDuringBuildError, getContainer } from "~/server/container";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("getContainer", () => {
  it("refuses while `next build` prerenders, before it opens anything", () => {
    vi.stubEnv("NEXT_PHASE", "phase-production-build");
    // A nonexistent directory: had the container been made, it would have been created.
    vi.stubEnv("DATA_DIR", "/nonexistent/tollgate-build-test");
    expect(() => getContainer()).toThrow(ContainerDuringBuildError);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("tollgate.container")]).toBeUndefined();
  });
});
