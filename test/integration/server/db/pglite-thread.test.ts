import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgliteThread } from "~/server/db/pglite-thread";
import { pgliteTemplateArchive } from "../../../helpers/pglite-template";

describe("the embedded database on its own thread", () => {
  let database: PgliteThread;

  beforeAll(async () => {
    database = new PgliteThread({ dataDir: undefined, settings: {}, startFrom: pgliteTemplateArchive() });
    await database.exec(`
      create table items (id integer primary key, label text not null, amount bigint, at timestamptz, doc jsonb);
    `);
  });
  afterAll(() => database.close());

  it("passes parameters and results with their types intact", async () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    await database.query("insert into items values ($1, $2, $3, $4, $5)", [
      1,
      "é ✓",
      12345678901234567n,
      at,
      JSON.stringify({ nano: "98765432109876543210", list: [1, 2] }),
    ]);
    const { rows } = await database.query<{ label: string; amount: bigint; at: Date; doc: unknown }>(
      "select label, amount, at, doc from items where id = $1",
      [1],
    );
    expect(rows).toEqual([
      { label: "é ✓", amount: 12345678901234567n, at, doc: { nano: "98765432109876543210", list: [1, 2] } },
    ]);
    const arrays = await database.query("select id, at from items where id = 1", [], {
      rowMode: "array",
      parsers: { 1184: (value) => value },
    });
    expect(arrays.rows).toEqual([[1, expect.stringMatching(/^2026-01-02 03:04:05\.678/)]]);
  });

  it("reports a database error with its code and constraint", async () => {
    const failure = await database.query("insert into items (id, label) values (1, 'again')").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ code: "23505", constraint: "items_pkey" });
  });

  it("commits a transaction, and keeps other statements out until it ends", async () => {
    const seenOutside: number[] = [];
    let outside: Promise<void> | undefined;
    await database.transaction(async (tx) => {
      await tx.query("insert into items (id, label) values (10, 'in a transaction')");
      // Sent while the transaction is open: it must run after the commit, and so see the row.
      outside = database
        .query<{ n: number }>("select count(*)::int as n from items where id = 10")
        .then(({ rows }) => void seenOutside.push(rows[0]!.n));
      await tx.query("update items set label = 'committed' where id = 10");
    });
    await outside;
    expect(seenOutside).toEqual([1]);
    const { rows } = await database.query<{ label: string }>("select label from items where id = 10");
    expect(rows).toEqual([{ label: "committed" }]);
  });

  it("rolls back when the work throws, and when it asks to", async () => {
    const thrown = await database
      .transaction(async (tx) => {
        await tx.query("insert into items (id, label) values (20, 'lost')");
        await tx.query("insert into items (id, label) values (20, 'duplicate')");
      })
      .catch((e: unknown) => e);
    expect(thrown).toMatchObject({ code: "23505" });
    await database.transaction(async (tx) => {
      await tx.query("insert into items (id, label) values (21, 'lost too')");
      await tx.rollback();
      expect(tx.closed).toBe(true);
    });
    const { rows } = await database.query("select id from items where id in (20, 21)");
    expect(rows).toEqual([]);
  });

  it("delivers notifications to each listener until it unlistens", async () => {
    const heard: string[] = [];
    const unlistenFirst = await database.listen("news", (payload) => heard.push(`first ${payload}`));
    const unlistenSecond = await database.listen("news", (payload) => heard.push(`second ${payload}`));
    await database.query("select pg_notify('news', 'one')");
    await expect.poll(() => heard.length).toBe(2);
    await unlistenFirst();
    await database.query("select pg_notify('news', 'two')");
    await expect.poll(() => heard).toEqual(["first one", "second one", "second two"]);
    await unlistenSecond();
  });

  it("leaves the event loop free while a statement runs", async () => {
    let turns = 0;
    let running = true;
    const spin = () => {
      turns += 1;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    // A second of work for the database; an in-process PGlite would run it without letting the loop turn once.
    await database.query("select count(*) from generate_series(1, 1000000) as n where n % 7 = 0");
    running = false;
    expect(turns).toBeGreaterThan(10);
  });
});

/** The nice value of each of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync("/proc/self/task").map((thread) => {
    const stat = readFileSync(`/proc/self/task/${thread}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

describe.runIf(process.platform === "linux")("the embedded database thread's priority", () => {
  it("is lowered to the niceness asked for, and the main thread's is not", async () => {
    const before = threadNiceValues().filter((nice) => nice === 19).length;
    const database = new PgliteThread({
      dataDir: undefined,
      settings: {},
      niceness: 19,
      startFrom: pgliteTemplateArchive(),
    });
    await database.waitReady;
    expect(threadNiceValues().filter((nice) => nice === 19)).toHaveLength(before + 1);
    expect(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[16]).toBe("0");
    await database.close();
  });
});

describe("the embedded database thread in memory", () => {
  it("takes its settings too", async () => {
    const database = new PgliteThread({
      dataDir: undefined,
      settings: { shared_buffers: "16MB" },
      startFrom: pgliteTemplateArchive(),
    });
    const setting = await database.query<{ shared_buffers: string }>("show shared_buffers");
    expect(setting.rows[0]?.shared_buffers).toBe("16MB");
    await database.close();
  });

  it("starts as an archive of another database when given one, and the archive's database stays as it was", async () => {
    const original = new PgliteThread({ dataDir: undefined, settings: {}, startFrom: pgliteTemplateArchive() });
    await original.exec("create table kept (value text); insert into kept values ('from the archive');");
    const archive = path.join(mkdtempSync(path.join(tmpdir(), "pglite-archive-")), "data.tar");
    writeFileSync(archive, gunzipSync(await original.dumpDataDir()));
    const copy = new PgliteThread({ dataDir: undefined, settings: {}, startFrom: archive });
    expect((await copy.query("select value from kept")).rows).toEqual([{ value: "from the archive" }]);
    await copy.exec("insert into kept values ('only in the copy')");
    expect((await original.query("select count(*)::int as n from kept")).rows).toEqual([{ n: 1 }]);
    await Promise.all([original.close(), copy.close()]);
    rmSync(path.dirname(archive), { recursive: true, force: true });
  });

  it("refuses a starting archive for a data directory, which has contents of its own", () => {
    expect(() => new PgliteThread({ dataDir: "/tmp/any", settings: {}, startFrom: "/tmp/any.tar" })).toThrow(
      /in-memory/,
    );
  });
});

describe("the embedded database thread's data directory", () => {
  const parent = mkdtempSync(path.join(tmpdir(), "pglite-thread-"));
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it("takes its settings, and keeps what was committed across a close and a reopen", async () => {
    const dataDir = path.join(parent, "data");
    const first = new PgliteThread({ dataDir, settings: { shared_buffers: "16MB" } });
    await first.exec("create table kept (value text); insert into kept values ('still here');");
    const setting = await first.query<{ shared_buffers: string }>("show shared_buffers");
    expect(setting.rows[0]?.shared_buffers).toBe("16MB");
    await first.close();
    const second = new PgliteThread({ dataDir, settings: {} });
    const { rows } = await second.query("select value from kept");
    expect(rows).toEqual([{ value: "still here" }]);
    await second.close();
  });

  it("fails every request with the reason when the database cannot open", async () => {
    const notADirectory = path.join(parent, "a-file");
    writeFileSync(notADirectory, "not a database");
    const broken = new PgliteThread({ dataDir: notADirectory, settings: {} });
    await expect(broken.waitReady).rejects.toThrow();
    await expect(broken.query("select 1")).rejects.toThrow();
    await broken.close();
  });
});
