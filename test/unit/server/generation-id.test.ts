import { describe, expect, it } from "vitest";
import { newGenerationId } from "~/server/container";

describe("newGenerationId", () => {
  it("makes distinct ids of 80 random bits after the time, also across refills of its entropy", () => {
    // 4096 bytes of entropy serve 409 ids: a thousand ids refill it twice.
    const ids = Array.from({ length: 1000 }, newGenerationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^gen-[0-9a-z]+-[0-9a-f]{20}$/);
    const randomParts = new Set(ids.map((id) => id.split("-")[2]));
    expect(randomParts.size).toBe(ids.length);
  });

  it("starts with the time, so ids sort roughly by creation", () => {
    const before = Date.now();
    const [, time] = newGenerationId().split("-");
    expect(parseInt(time!, 36)).toBeGreaterThanOrEqual(before);
    expect(parseInt(time!, 36)).toBeLessThanOrEqual(Date.now());
  });
});
