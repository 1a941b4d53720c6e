import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "~/server/db";
import { pgliteTemplateArchive } from "../../../helpers/pglite-template";
import { jsonParam, rowsOf } from "~/server/db/raw-rows";

/*
 * PGlite receives jsonb parameters as bytes in jsonb's binary format (src/server/db/index.ts). Whatever the text, the
 * database must read back exactly the document that was sent.
 */
describe("jsonb parameters on PGlite", () => {
  let handle: DatabaseHandle;
  beforeAll(() => {
    handle = openDatabase({ kind: "pglite", startFrom: pgliteTemplateArchive() });
  });
  afterAll(async () => {
    await handle.close();
  });

  it("arrive as sent: multi-byte text, escapes, big integers, nulls", async () => {
    const document = {
      text: "café, €5, 日本語, emoji 😀, quote \" and backslash \\ and 'single'",
      control: "line\nbreak\ttab",
      amountNano: 9_007_199_254_740_993n,
      nothing: null,
      list: [1, "two", { three: 3 }],
    };
    const [row] = rowsOf<{ echoed: string; text: string; amount: string }>(
      await handle.db.execute(sql`
        select (${jsonParam(document)}::jsonb)::text as echoed,
          (${jsonParam(document)}::jsonb)->>'text' as text,
          ((${jsonParam(document)}::jsonb)->>'amountNano')::numeric::text as amount`),
    );
    expect(row!.text).toBe(document.text);
    expect(row!.amount).toBe("9007199254740993");
    expect(JSON.parse(row!.echoed)).toEqual({ ...document, amountNano: "9007199254740993" });
  });

  it("can be empty documents and long ones", async () => {
    const long = Array.from({ length: 5000 }, (_, index) => ({ index, label: `row ${index} — ü` }));
    const [row] = rowsOf<{ empty: number; count: number; last: string }>(
      await handle.db.execute(sql`
        select jsonb_array_length(${jsonParam([])}::jsonb) as empty,
          jsonb_array_length(${jsonParam(long)}::jsonb) as count,
          (${jsonParam(long)}::jsonb)->4999->>'label' as last`),
    );
    expect(row).toEqual({ empty: 0, count: 5000, last: "row 4999 — ü" });
  });
});
