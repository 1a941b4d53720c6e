import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseSse } from "~/server/gateway/sse/parse-sse";
import { fixture } from "../../../../helpers/fixtures";

function pieces(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) parts.push(bytes.subarray(offset, offset + size));
  return Readable.from(parts);
}

async function collect(text: string, size: number) {
  const events = [];
  for await (const batch of parseSse(pieces(text, size))) {
    expect(batch.length).toBeGreaterThan(0);
    events.push(...batch);
  }
  return events;
}

describe("parseSse", () => {
  it.each([1, 7, 4096])("yields the same events whatever the chunking (%i-byte pieces)", async (size) => {
    const body = fixture("openai/text-stream-include-usage").body;
    const events = await collect(body, size);
    expect(events.at(-1)?.data).toBe("[DONE]");
    expect(events).toEqual(await collect(body, 1 << 20));
  });

  it("yields the events of one read together", async () => {
    const batches = [];
    for await (const batch of parseSse(Readable.from([new TextEncoder().encode("data: a\n\ndata: b\n\ndata: c")])))
      batches.push(batch.map((event) => event.data));
    expect(batches).toEqual([["a", "b"], ["c"]]);
  });

  it("keeps event names, drops comments, and splits multi-byte characters safely", async () => {
    const text = ': OPENROUTER PROCESSING\n\nevent: message_start\ndata: {"x":"é😀"}\n\ndata: tail';
    const events = await collect(text, 1);
    expect(events).toEqual([
      { event: "message_start", data: '{"x":"é😀"}' },
      { event: undefined, data: "tail" },
    ]);
  });

  it("reads Gemini's CRLF-separated events", async () => {
    const events = await collect(fixture("gemini/text-stream").body, 13);
    expect(events.length).toBeGreaterThan(1);
    for (const event of events) expect(() => JSON.parse(event.data) as unknown).not.toThrow();
  });
});
