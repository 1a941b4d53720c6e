import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generations } from "~/server/db/schema";
import type { GenerationRow } from "~/server/gateway/billing/usage-writer";
import { formatNanoAsUsd, nanoToUsdNumber, parseUsdToNano } from "~/server/gateway/billing/money";
import { handleActivityExport } from "~/server/http/activity-export-handler";
import { createApiKey } from "~/server/services/api-keys";
import { DAILY_COLUMNS, EXPORT_PAGE_SIZE, REQUEST_LOG_COLUMNS } from "~/server/services/activity-export";
import { sessionFor, startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * The activity router and the CSV export, over generations written the way the gateway writes them (through the
 * usage writer, which also fills the hourly rollup), at times relative to now with margins of hours, so the windows
 * (last 24 hours by hour, 7 days by day) hold them whatever the time of day.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Seeded {
  user: SessionUser;
  keys: { id: string; name: string }[];
}

let sequence = 0;

/** One CSV line's fields (RFC 4180: a quoted field may hold commas and doubled quotes). */
function csvFields(line: string): string[] {
  return [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map(([, field = ""]) =>
    field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field,
  );
}

function generation(user: string, overrides: Partial<GenerationRow> & { ageMs: number; costNano: bigint }) {
  sequence += 1;
  const { ageMs, costNano, ...rest } = overrides;
  const row: GenerationRow = {
    id: `gen-activity-${String(sequence).padStart(6, "0")}`,
    userId: user,
    apiKeyId: null,
    modelId: "openai/gpt-4.1-nano",
    channelId: null,
    provider: "openai",
    upstreamModel: "gpt-4.1-nano",
    streamed: false,
    httpStatus: 200,
    promptTokens: 10,
    completionTokens: 5,
    billingStatus: costNano > 0n ? "exact" : "void",
    costNano,
    latencyMs: 100,
    createdAt: new Date(Date.now() - ageMs),
    ...rest,
  };
  return { generation: row, costNano };
}

describe("the activity router and CSV export", () => {
  let app: ApiTestApp;
  let owner: Seeded;
  let stranger: Seeded;
  /** The owner's generations of the last 24 hours, newest first. */
  let recent: GenerationRow[];

  async function signUp(email: string, keyNames: string[]): Promise<Seeded> {
    const created = await app.callerFor(null).account.signUp({ email, password: "password-123" });
    const user = { id: created.id, email: created.email, role: "user" as const };
    const keys = [];
    for (const name of keyNames) {
      const { key } = await createApiKey(app.container.db, { userId: user.id, name });
      keys.push({ id: key.id, name });
    }
    return { user, keys };
  }

  beforeAll(async () => {
    app = await startApiTestApp();
    owner = await signUp("activity-owner@example.com", ["production", "=cmd|' /C calc'!A0,\"x\""]);
    stranger = await signUp("activity-stranger@example.com", ["theirs"]);
    const settlements = [];
    // 120 calls over the last 20 hours: two keys, two models, a tenth failed, a third streamed.
    for (let index = 0; index < 120; index++) {
      settlements.push(
        generation(owner.user.id, {
          ageMs: HOUR + index * 10 * 60_000,
          costNano: index % 10 === 9 ? 0n : 1_000n + BigInt(index),
          apiKeyId: owner.keys[index % 2]!.id,
          modelId: index % 3 === 0 ? "anthropic/claude-haiku-4.5" : "openai/gpt-4.1-nano",
          provider: index % 3 === 0 ? "anthropic" : "openai",
          httpStatus: index % 10 === 9 ? 502 : 200,
          errorType: index % 10 === 9 ? "upstream_error" : null,
          streamed: index % 3 === 1,
          timeToFirstTokenMs: index % 3 === 1 ? 40 : null,
          // The oldest call's id starts with `-`, as a client's own may: a spreadsheet would read it as a formula.
          requestId: index === 119 ? "-req-activity-119" : `req-activity-${index}`,
        }),
      );
    }
    // Three days ago: in the 7-day view only.
    settlements.push(generation(owner.user.id, { ageMs: 3 * DAY, costNano: 5_000_000n, apiKeyId: owner.keys[0]!.id }));
    // The stranger's: never in the owner's views.
    // Its request id is one the owner's calls use too (client-chosen ids can collide): still only the stranger's.
    settlements.push(
      generation(stranger.user.id, {
        ageMs: 2 * HOUR,
        costNano: 7_777n,
        apiKeyId: stranger.keys[0]!.id,
        requestId: "req-activity-5",
      }),
    );
    for (const settlement of settlements) app.container.usageWriter.enqueue(settlement);
    await app.container.usageWriter.flush();
    recent = settlements
      .slice(0, 120)
      .map((settlement) => settlement.generation)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  });

  afterAll(async () => {
    await app?.close();
  });

  const sumCost = (rows: GenerationRow[]) => rows.reduce((sum, row) => sum + (row.costNano ?? 0n), 0n);

  it("totals, charts and breaks down the last 24 hours by hour from the rollup", async () => {
    const summary = await app.callerFor(owner.user).activity.summary({ range: "24h", groupBy: "model" });
    expect(summary.window.bucket).toBe("hour");
    expect(summary.series).toHaveLength(24);
    expect(summary.totals).toMatchObject({
      requests: 120,
      errors: 12,
      promptTokens: 1_200,
      completionTokens: 600,
      spendUsd: formatNanoAsUsd(sumCost(recent)),
      averageCostUsd: formatNanoAsUsd(sumCost(recent) / 120n),
      averageLatencyMs: 100,
      averageFirstTokenMs: 40,
    });
    expect(summary.groups.map((group) => group.id).sort()).toEqual(
      ["anthropic/claude-haiku-4.5", "openai/gpt-4.1-nano"].sort(),
    );
    expect(summary.series.reduce((sum, point) => sum + point.requests, 0)).toBe(120);
    expect(summary.byModel.reduce((sum, row) => sum + row.requests, 0)).toBe(120);
    expect(summary.byKey).toHaveLength(2);
    for (const key of owner.keys) {
      expect(summary.byKey.find((row) => row.id === key.id)?.label).toContain(key.name);
    }

    const week = await app.callerFor(owner.user).activity.summary({ range: "7d", groupBy: "key" });
    expect(week.window.bucket).toBe("day");
    expect(week.series).toHaveLength(7);
    expect(week.totals.requests).toBe(121);
    expect(week.groups.map((group) => group.id).sort()).toEqual(owner.keys.map((key) => key.id).sort());
  });

  it("narrows every view by model, key and provider, and refuses a backwards range", async () => {
    const caller = app.callerFor(owner.user);
    const byModel = await caller.activity.summary({ range: "24h", modelId: "anthropic/claude-haiku-4.5" });
    expect(byModel.totals.requests).toBe(40);
    const byKey = await caller.activity.summary({ range: "24h", apiKeyId: owner.keys[1]!.id });
    expect(byKey.totals.requests).toBe(60);
    const byProvider = await caller.activity.summary({ range: "24h", provider: "openai" });
    expect(byProvider.totals.requests).toBe(80);
    await expect(
      caller.activity.summary({ range: "custom", from: "2026-11-20", to: "2026-11-19" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("pages through the request log newest first, with exactly the filtered rows", async () => {
    const caller = app.callerFor(owner.user);
    const seen: string[] = [];
    let cursor: { createdAt: Date; id: string } | null = null;
    const pageSizes: number[] = [];
    do {
      const page: Awaited<ReturnType<typeof caller.activity.log>> = await caller.activity.log({
        range: "24h",
        limit: 50,
        cursor,
      });
      pageSizes.push(page.items.length);
      seen.push(...page.items.map((row) => row.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(pageSizes).toEqual([50, 50, 20]);
    expect(seen).toEqual(recent.map((row) => row.id));

    const failed = await caller.activity.log({ range: "24h", status: "error", limit: 100 });
    expect(failed.items.map((row) => row.id).sort()).toEqual(
      recent
        .filter((row) => row.httpStatus >= 400)
        .map((row) => row.id)
        .sort(),
    );
    const streamed = await caller.activity.log({
      range: "24h",
      streamed: true,
      apiKeyId: owner.keys[0]!.id,
      limit: 100,
    });
    expect(streamed.items.map((row) => row.id).sort()).toEqual(
      recent
        .filter((row) => row.streamed && row.apiKeyId === owner.keys[0]!.id)
        .map((row) => row.id)
        .sort(),
    );
    const one = await caller.activity.log({ range: "7d", requestId: recent[5]!.id });
    expect(one.items).toEqual([
      expect.objectContaining({ id: recent[5]!.id, costUsd: formatNanoAsUsd(recent[5]!.costNano!) }),
    ]);

    // The request id a client was sent (x-request-id) finds the same call, and only the account's own.
    const byRequestId = await caller.activity.log({ range: "7d", requestId: recent[5]!.requestId! });
    expect(byRequestId.items.map((row) => [row.id, row.requestId])).toEqual([[recent[5]!.id, recent[5]!.requestId]]);
    const theirs = await app.callerFor(stranger.user).activity.log({ range: "7d", requestId: "req-activity-5" });
    expect(theirs.items.map((row) => row.costUsd)).toEqual([formatNanoAsUsd(7_777n)]);

    const detail = await caller.activity.generation({ id: recent[5]!.id });
    expect(detail).toMatchObject({ id: recent[5]!.id, attempts: [expect.objectContaining({ status: 200 })] });
  });

  it("gives each key its spend per UTC day over two weeks, for the keys page's sparklines", async () => {
    const days = await app.callerFor(owner.user).activity.keySpendByDay();
    expect(Object.keys(days).sort()).toEqual(owner.keys.map((key) => key.id).sort());
    for (const [index, key] of owner.keys.entries()) {
      expect(days[key.id]).toHaveLength(14);
      const spent = recent.filter((row) => row.apiKeyId === key.id);
      const expected = nanoToUsdNumber(sumCost(spent) + (index === 0 ? 5_000_000n : 0n));
      expect(days[key.id]!.reduce((sum, day) => sum + day, 0)).toBeCloseTo(expected, 9);
    }
    expect(Object.keys(await app.callerFor(stranger.user).activity.keySpendByDay())).toEqual([stranger.keys[0]!.id]);
  });

  it("never shows one account another's rows", async () => {
    const theirs = app.callerFor(stranger.user);
    const summary = await theirs.activity.summary({ range: "24h" });
    expect(summary.totals).toMatchObject({ requests: 1, spendUsd: formatNanoAsUsd(7_777n) });
    const log = await theirs.activity.log({ range: "30d", limit: 100 });
    expect(log.items).toHaveLength(1);
    await expect(theirs.activity.generation({ id: recent[0]!.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // Filtering by the owner's key finds nothing of the owner's.
    const foreignKey = await theirs.activity.summary({ range: "24h", apiKeyId: owner.keys[0]!.id });
    expect(foreignKey.totals.requests).toBe(0);
    await expect(app.callerFor(null).activity.summary({ range: "24h" })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });

  async function download(user: SessionUser | null, query: string): Promise<{ status: number; chunks: string[] }> {
    const response = await handleActivityExport(
      new Request(`http://localhost/api/activity/export?${query}`),
      user === null ? null : sessionFor(user),
    );
    const chunks: string[] = [];
    if (response.body !== null) {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(decoder.decode(chunk));
      }
    }
    return { status: response.status, chunks };
  }

  it("exports the filtered request log and the daily totals as CSV with exact costs", async () => {
    const log = await download(owner.user, "kind=requests&range=24h&status=error");
    expect(log.status).toBe(200);
    const lines = log.chunks.join("").trimEnd().split("\r\n");
    expect(lines[0]).toBe(REQUEST_LOG_COLUMNS.join(","));
    expect(lines).toHaveLength(13);
    const failed = recent.filter((row) => row.httpStatus >= 400);
    expect(
      lines[1]?.startsWith(`${failed[0]!.id},${failed[0]!.requestId},${failed[0]!.createdAt.toISOString()},`),
    ).toBe(true);
    // A filter nothing matches: the header alone.
    const none = await download(owner.user, "kind=requests&range=24h&modelId=nobody%2Fnothing");
    expect(none.chunks.join("").trimEnd().split("\r\n")).toEqual([REQUEST_LOG_COLUMNS.join(",")]);
    // A key name that a spreadsheet would run as a formula is defused, and quoted for its comma and quote.
    const all = (await download(owner.user, "kind=requests&range=24h")).chunks.join("");
    expect(all).toContain(`,"'=cmd|' /C calc'!A0,""x"" (`);
    expect(all).not.toContain(",=cmd");
    expect(all).toContain(",'-req-activity-119,");
    // Every cost is the exact decimal of its nano-dollars.
    const byId = new Map(all.split("\r\n").map((line) => [line.split(",")[0], csvFields(line)]));
    for (const row of recent.slice(0, 10)) {
      expect(byId.get(row.id)?.[REQUEST_LOG_COLUMNS.indexOf("cost_usd")]).toBe(formatNanoAsUsd(row.costNano!));
      expect(byId.get(row.id)?.[REQUEST_LOG_COLUMNS.indexOf("request_id")]).toBe(row.requestId);
      // Each line names its own key.
      expect(byId.get(row.id)?.[REQUEST_LOG_COLUMNS.indexOf("key")]).toMatch(
        row.apiKeyId === owner.keys[0]!.id ? /^production \(sk-gw-/ : /^'=cmd\|' \/C calc'!A0,"x" \(sk-gw-/,
      );
    }

    const daily = await download(owner.user, "kind=daily&range=7d");
    const dailyLines = daily.chunks.join("").trimEnd().split("\r\n");
    expect(dailyLines[0]).toBe(DAILY_COLUMNS.join(","));
    const total = dailyLines.slice(1).reduce((sum, line) => sum + parseUsdToNano(line.split(",").at(-1)!), 0n);
    expect(total).toBe(sumCost(recent) + 5_000_000n);

    expect((await download(null, "kind=requests")).status).toBe(401);
    expect((await download(owner.user, "kind=everything")).status).toBe(400);
    const theirs = (await download(stranger.user, "kind=requests&range=30d")).chunks.join("");
    expect(theirs.trimEnd().split("\r\n")).toHaveLength(2);

    // An account without keys (its call made with none): the key columns are empty.
    const keyless = await signUp("activity-keyless@example.com", []);
    const call = generation(keyless.user.id, { ageMs: HOUR, costNano: 3_000n });
    app.container.usageWriter.enqueue(call);
    await app.container.usageWriter.flush();
    const [, line] = (await download(keyless.user, "kind=requests&range=24h")).chunks.join("").trimEnd().split("\r\n");
    const fields = csvFields(line!);
    expect(fields[0]).toBe(call.generation.id);
    expect([fields[REQUEST_LOG_COLUMNS.indexOf("key_id")], fields[REQUEST_LOG_COLUMNS.indexOf("key")]]).toEqual([
      "",
      "",
    ]);
  });

  it("streams a 10,000-row log a page at a time, newest first, every row once", async () => {
    const big = await signUp("activity-busy@example.com", ["busy"]);
    const written: GenerationRow[] = [];
    for (let index = 0; index < 10_000; index++) {
      // One a second for almost three hours: each hour holds more than a page, so pages end inside hours and hours
      // end inside pages.
      const settlement = generation(big.user.id, {
        ageMs: HOUR + index * 1_000,
        costNano: 1n,
        apiKeyId: big.keys[0]!.id,
      });
      written.push(settlement.generation);
      app.container.usageWriter.enqueue(settlement);
    }
    await app.container.usageWriter.flush();
    const { status, chunks } = await download(big.user, "kind=requests&range=24h");
    expect(status).toBe(200);
    // The header, then pieces of at most EXPORT_PAGE_SIZE rows: never the whole log at once.
    expect(chunks.length).toBeGreaterThanOrEqual(1 + 10_000 / EXPORT_PAGE_SIZE);
    for (const chunk of chunks.slice(1)) {
      expect(chunk.split("\r\n").length - 1).toBeLessThanOrEqual(EXPORT_PAGE_SIZE);
    }
    const ids = chunks
      .slice(1)
      .join("")
      .trimEnd()
      .split("\r\n")
      .map((line) => line.split(",")[0]);
    expect(ids).toEqual(written.map((row) => row.id));
  });

  it("exports a generation the hourly rollup does not count yet", async () => {
    const lagging = await signUp("activity-lagging@example.com", []);
    const counted = generation(lagging.user.id, { ageMs: 2 * HOUR, costNano: 5n });
    app.container.usageWriter.enqueue(counted);
    await app.container.usageWriter.flush();
    // Written to the log alone, in an hour of its own, as if the rollup had fallen behind: the rollup sizes the
    // export's slices, but the slices cover the whole window.
    const uncounted = generation(lagging.user.id, { ageMs: 5 * HOUR, costNano: 7n }).generation;
    await app.container.db.insert(generations).values(uncounted);
    const lines = (await download(lagging.user, "kind=requests&range=24h")).chunks.join("").trimEnd().split("\r\n");
    expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual([counted.generation.id, uncounted.id]);
  });
});
