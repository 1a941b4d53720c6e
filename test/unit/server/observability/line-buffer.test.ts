import { describe, expect, it } from "vitest";
import { createLineBuffer } from "~/server/observability/line-buffer";

describe("createLineBuffer", () => {
  it("writes a turn's lines together once the turn ends, in order", async () => {
    const writes: string[] = [];
    const lines = createLineBuffer((chunk) => writes.push(chunk));
    lines.push("a\n");
    lines.push("b\n");
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(["a\nb\n"]);
    lines.push("c\n");
    lines.flush();
    expect(writes).toEqual(["a\nb\n", "c\n"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
  });

  it("writes at once when a turn's lines grow large", () => {
    const writes: string[] = [];
    const lines = createLineBuffer((chunk) => writes.push(chunk));
    const line = `${"x".repeat(1023)}\n`;
    for (let index = 0; index < 64; index++) lines.push(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(64 * 1024);
    lines.flush();
  });
});
