import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableDatabaseKinds, createTestDatabase, type TestDatabase } from "../../../helpers/test-database";

const utf8 = new TextDecoder();

describe.each(availableDatabaseKinds())("textRows on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ kind });
  });
  afterAll(async () => {
    await database?.drop();
  });

  const rowsOf = async (values: (string | null)[]) =>
    (
      await database.handle.textRows(sql`
        select value from unnest(array[${sql.join(
          values.map((value) => sql`${value}`),
          sql`, `,
        )}]::text[]) with ordinality as given(value, position)
        order by position`)
    ).map((bytes) => utf8.decode(bytes));

  it("gives each row's text as its UTF-8 bytes, a null as nothing", async () => {
    const values = ['café, "quoted"', null, "日本語 😀 …", "line\r\nbreak", ""];
    expect(await rowsOf(values)).toEqual(values.map((value) => value ?? ""));
  });

  it("binds each call's own parameters to a statement it has run before", async () => {
    // On PostgreSQL the statement is prepared once per connection and run again with new values.
    for (let round = 0; round < 8; round++) {
      expect(await rowsOf([`round ${round}`, `${round * 2}`])).toEqual([`round ${round}`, `${round * 2}`]);
    }
  });

  it("takes arrays as single parameters, empty ones too, again and again", async () => {
    const joined = async (ids: string[], labels: string[]) =>
      (
        await database.handle.textRows(sql`
          select concat(id, '=', label) from unnest(${sql.param(ids)}::uuid[], ${sql.param(labels)}::text[])
            as keys(id, label) order by id`)
      ).map((bytes) => utf8.decode(bytes));
    const ids = ["0a0a0a0a-0000-4000-8000-000000000001", "0a0a0a0a-0000-4000-8000-000000000002"];
    const labels = ['"quoted", with comma', "back\\slash {brace} …"];
    for (let round = 0; round < 7; round++) {
      expect(await joined(ids, labels)).toEqual([`${ids[0]}=${labels[0]}`, `${ids[1]}=${labels[1]}`]);
      expect(await joined([], [])).toEqual([]);
    }
  });

  it("reads thousands of rows", async () => {
    const lines = await database.handle.textRows(
      sql`select 'line ' || n || E'\r\n' from generate_series(1, ${5000}::int) as n order by n`,
    );
    // Each row's bytes stay its own after the next ones arrived (on PostgreSQL they are views of what was read).
    expect(lines.map((line) => utf8.decode(line))).toEqual(
      Array.from({ length: 5000 }, (_, index) => `line ${index + 1}\r\n`),
    );
  });
});
