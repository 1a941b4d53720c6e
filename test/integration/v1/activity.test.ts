import { TEST_ACTOR } from "../../helpers/audit";
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { nanoToUsdNumber } from "~/server/gateway/billing/money";
import { createApiKey } from "~/server/services/api-keys";
import { addChannel } from "~/server/services/channels";
import { addCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { startFaultUpstream, sseChunk, type FaultUpstream } from "../../helpers/fault-upstream";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { startGatewayPair, type GatewayPair } from "../../helpers/gateway-pair";
import { MIGRATIONS_FOLDER, availableDatabaseKinds } from "../../helpers/test-database";

/*
 * The hourly usage rollup is written by the usage writer in the transaction that inserts the generations it sums and
 * debits their cost: after any traffic it equals the generation log summed per account, key, model, provider and
 * UTC hour, and its cost equals the ledger's usage debits. GET /v1/activity reads it: daily rows for the last 30
 * complete UTC days, in OpenRouter's shape, for the key's account only.
 */

const NANO = "openai/gpt-4.1-nano";
const MINI = "openai/gpt-4.1-mini";
const USAGE = {
  prompt_tokens: 20,
  completion_tokens: 10,
  total_tokens: 30,
  completion_tokens_details: { reasoning_tokens: 4 },
};

/** Answers every call with USAGE, streamed or not; a message saying "refuse" gets a 400 (an error, nothing billed). */
function answer(response: ServerResponse, body: { stream?: boolean; messages?: { content: string }[] }): void {
  if (body.messages?.[0]?.content === "refuse") {
    response.writeHead(400, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: "Refused.", type: "invalid_request_error" } }));
    return;
  }
  if (body.stream !== true) {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        id: "chatcmpl-activity",
        object: "chat.completion",
        created: 1_700_000_000,
        model: "gpt-4.1-nano",
        choices: [{ index: 0, message: { role: "assistant", content: "Counted." }, finish_reason: "stop" }],
        usage: USAGE,
      }),
    );
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.end(
    sseChunk([{ index: 0, delta: { role: "assistant", content: "Counted." }, finish_reason: null }]) +
      sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
      sseChunk([], USAGE) +
      "data: [DONE]\n\n",
  );
}

async function startUpstream(): Promise<FaultUpstream> {
  return startFaultUpstream((_request, response, body) => answer(response, body));
}

async function call(baseUrl: string, apiKey: string, model: string, stream: boolean, content = "Count me.") {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content }] }),
  });
  await response.text();
  return response.status;
}

/** The generation log and the rollup, each summed per slot, as comparable text rows. */
async function logAndRollup(db: Database): Promise<{ log: string[]; rollup: string[] }> {
  const log = rowsOf<{ slot: string }>(
    await db.execute(sql`
      select concat_ws(' ', user_id, coalesce(api_key_id::text, '-'), model_id, provider,
        to_char(date_trunc('hour', created_at, 'UTC') at time zone 'UTC', 'YYYY-MM-DD HH24'), count(*),
        count(*) filter (where http_status >= 400), sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens),
        sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_nano), sum(latency_ms),
        coalesce(sum(time_to_first_token_ms), 0), count(time_to_first_token_ms)) as slot
      from generations group by user_id, api_key_id, model_id, provider, date_trunc('hour', created_at, 'UTC')
      order by 1`),
  ).map((row) => row.slot);
  const rollup = rowsOf<{ slot: string }>(
    await db.execute(sql`
      select concat_ws(' ', user_id, coalesce(api_key_id::text, '-'), model_id, provider,
        to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24'), requests, errors, prompt_tokens, completion_tokens,
        cached_tokens, cache_write_tokens, reasoning_tokens, cost_nano, latency_ms_sum, first_token_ms_sum,
        first_token_count) as slot
      from usage_hourly order by 1`),
  ).map((row) => row.slot);
  return { log, rollup };
}

async function usageDebitsNano(db: Database): Promise<{ ledger: bigint; rollup: bigint }> {
  const [row] = rowsOf<{ ledger: string; rollup: string }>(
    await db.execute(sql`
      select coalesce((select -sum(amount_nano) from ledger_entries where kind = 'usage'), 0)::text as ledger,
             coalesce((select sum(cost_nano) from usage_hourly), 0)::text as rollup`),
  );
  return { ledger: BigInt(row!.ledger), rollup: BigInt(row!.rollup) };
}

describe.each(availableDatabaseKinds())("the hourly usage rollup and GET /v1/activity (%s)", (kind) => {
  let harness: GatewayHarness;
  let upstream: FaultUpstream;
  let now = Date.parse("2026-11-20T10:15:00Z");
  let owner: { userId: string; apiKey: string; apiKeyId: string };
  let secondKey: { id: string; prefix: string; plaintext: string };
  let stranger: { userId: string; apiKey: string; apiKeyId: string };
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  beforeAll(async () => {
    upstream = await startUpstream();
    harness = await startGatewayHarness({ databaseKind: kind, clock: () => now });
    await addChannel(
      harness.container.db,
      harness.container.secretBox,
      harness.container.changes,
      {
        kind: "openai-compatible",
        name: "activity",
        baseUrl: upstream.baseUrl,
        models: [
          { modelId: NANO, upstreamModel: "gpt-4.1-nano" },
          { modelId: MINI, upstreamModel: "gpt-4.1-mini" },
        ],
      },
      TEST_ACTOR,
    );
    await harness.container.catalog.reload();
    owner = await harness.createFundedUser("10");
    const created = await createApiKey(harness.container.db, { userId: owner.userId, name: "second" });
    secondKey = { id: created.key.id, prefix: created.key.prefix, plaintext: created.plaintext };
    stranger = await harness.createFundedUser("10");
    const document = (await (await fetch(`${harness.baseUrl}/openapi.json`)).json()) as { components: object };
    ajv.addSchema({ $id: "urn:tollgate:openapi", components: document.components });
  });

  afterAll(async () => {
    await harness?.stop();
    await upstream?.close();
  });

  it("sums every generation into its hour in the batch that writes it, and agrees with the ledger", async () => {
    // Two hours of one UTC day: concurrent calls over two keys and two models, streamed and not, a few refused.
    now = Date.parse("2026-11-20T10:15:00Z");
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        call(
          harness.baseUrl,
          index % 2 === 0 ? owner.apiKey : secondKey.plaintext,
          index % 3 === 0 ? MINI : NANO,
          index % 4 < 2,
          index % 10 === 9 ? "refuse" : "Count me.",
        ),
      ),
    );
    expect(statuses.filter((status) => status === 400)).toHaveLength(4);
    now = Date.parse("2026-11-20T11:05:00Z");
    for (let index = 0; index < 6; index++) expect(await call(harness.baseUrl, stranger.apiKey, NANO, true)).toBe(200);
    await harness.container.usageWriter.flush();

    const { log, rollup } = await logAndRollup(harness.container.db);
    expect(rollup).toEqual(log);
    // Owner's two keys × two models in hour 10, the stranger's one slot in hour 11.
    expect(rollup).toHaveLength(5);
    const debits = await usageDebitsNano(harness.container.db);
    expect(debits.rollup).toBe(debits.ledger);
    expect(debits.rollup).toBeGreaterThan(0n);
  });

  it("answers the account's days, in OpenRouter's row shape, filtered by day and key, never another account's", async () => {
    now = Date.parse("2026-11-21T09:00:00Z");
    const get = async (query: string, apiKey = owner.apiKey) => {
      const response = await fetch(`${harness.baseUrl}/activity${query}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const all = await get("");
    expect(all.status).toBe(200);
    const validate = ajv.getSchema("urn:tollgate:openapi#/components/schemas/Activity")!;
    expect(validate(all.body), JSON.stringify(validate.errors)).toBe(true);
    const rows = (all.body as { data: Record<string, unknown>[] }).data;
    expect(rows.map((row) => [row.date, row.model, row.provider_name])).toEqual([
      ["2026-11-20", MINI, "activity"],
      ["2026-11-20", NANO, "activity"],
    ]);
    expect(rows.reduce((sum, row) => sum + (row.requests as number), 0)).toBe(40);
    // Usage in USD is the generations' cost, to the nano-dollar.
    const [cost] = rowsOf<{ nano: string }>(
      await harness.container.db.execute(
        sql`select sum(cost_nano)::text as nano from generations where user_id = ${owner.userId} and model_id = ${NANO}`,
      ),
    );
    expect(rows[1]).toMatchObject({
      usage: nanoToUsdNumber(BigInt(cost!.nano)),
      byok_usage_inference: 0,
      model_permaslug: NANO,
      prompt_tokens: expect.any(Number) as number,
      reasoning_tokens: expect.any(Number) as number,
    });
    expect(rows[1]!.reasoning_tokens).toBe(((rows[1]!.requests as number) - 2) * 4);

    expect((await get("?date=2026-11-20")).body).toEqual(all.body);
    const byPrefix = await get(`?key=${secondKey.prefix}`);
    const byId = await get(`?key=${secondKey.id}`);
    expect(byPrefix.body).toEqual(byId.body);
    expect((byPrefix.body as { data: { requests: number }[] }).data.reduce((sum, row) => sum + row.requests, 0)).toBe(
      20,
    );

    // Today is not complete; 31 days ago is out of range; a day must be a real one.
    for (const date of ["2026-11-21", "2026-10-21", "2026-11-31", "yesterday"]) {
      const refused = await get(`?date=${date}`);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { type: "invalid_request_error", param: "date" } });
    }
    // Another account's key is no key of this account; its owner sees only its own rows.
    const foreign = await get(`?key=${stranger.apiKeyId}`);
    expect(foreign).toMatchObject({ status: 400, body: { error: { param: "key" } } });
    const strangers = await get("", stranger.apiKey);
    expect((strangers.body as { data: { requests: number }[] }).data).toEqual([
      expect.objectContaining({ date: "2026-11-20", model: NANO, requests: 6 }),
    ]);
  });

  it("is backfilled from the generation log by its migration", async () => {
    const { db } = harness.container;
    const before = await logAndRollup(db);
    const migration = readFileSync(path.join(MIGRATIONS_FOLDER, "0010_usage_hourly.sql"), "utf8");
    const backfill = migration.split("--> statement-breakpoint").at(-1)!;
    expect(backfill).toContain('INSERT INTO "usage_hourly"');
    await db.execute(sql`delete from usage_hourly where true`);
    await db.execute(sql.raw(backfill));
    expect(await logAndRollup(db)).toEqual(before);
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("the hourly rollup under two gateway processes", () => {
  let pair: GatewayPair;
  let upstream: FaultUpstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    pair = await startGatewayPair({
      channel: {
        name: "activity",
        baseUrl: upstream.baseUrl,
        models: [
          { modelId: NANO, upstreamModel: "gpt-4.1-nano" },
          { modelId: MINI, upstreamModel: "gpt-4.1-mini" },
        ],
      },
    });
  });

  afterAll(async () => {
    await pair?.close();
    await upstream?.close();
  });

  it("equals the generation log after concurrent traffic through both", async () => {
    const { db } = pair.database.handle;
    const { gateways, changes } = pair;
    const keys: string[] = [];
    for (const email of ["one@example.com", "two@example.com"]) {
      const user = await createUser(db, { email, password: "password-123" });
      await addCredits(db, changes, { userId: user.id, amountNano: 10_000_000_000n });
      keys.push((await createApiKey(db, { userId: user.id, name: "a" })).plaintext);
      keys.push((await createApiKey(db, { userId: user.id, name: "b" })).plaintext);
    }
    for (const gateway of gateways) {
      await expect.poll(async () => call(gateway.baseUrl, keys[0]!, MINI, false), { timeout: 30_000 }).toBe(200);
    }
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        call(gateways[index % 2]!.baseUrl, keys[index % keys.length]!, index % 3 === 0 ? MINI : NANO, index % 5 < 2),
      ),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    // SIGTERM drains each process's usage writer.
    await pair.stopGateways();

    const { log, rollup } = await logAndRollup(db);
    expect(rollup).toEqual(log);
    expect(log.reduce((sum, slot) => sum + Number(slot.split(" ")[6]), 0)).toBe(202);
    const debits = await usageDebitsNano(db);
    expect(debits.rollup).toBe(debits.ledger);
  });
});
