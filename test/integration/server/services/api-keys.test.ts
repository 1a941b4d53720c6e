import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "~/server/db/schema";
import { rowsOf } from "~/server/db/raw-rows";
import { currentPeriodStart } from "~/server/gateway/billing/balance-holds";
import { hashApiKey } from "~/server/gateway/keys/api-key-format";
import { findApiKeyByHash } from "~/server/gateway/keys/find-api-key-by-hash";
import {
  ApiKeyInputError,
  createApiKey,
  describeApiKey,
  KEY_LIMIT_RESETS,
  setApiKeyDisabled,
  updateApiKeyLimits,
} from "~/server/services/api-keys";
import { NotFoundError } from "~/server/services/users";
import { startGatewayHarness, type GatewayHarness } from "../../../helpers/gateway-harness";

let harness: GatewayHarness;
const db = () => harness.container.db;
const changes = () => harness.container.changes;

beforeAll(async () => {
  harness = await startGatewayHarness();
});

afterAll(async () => {
  await harness?.stop();
});

async function rowOf(id: string) {
  const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, id));
  return row!;
}

function chat(apiKey: string): Promise<Response> {
  return fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("spend periods", () => {
  it("start where PostgreSQL's place_balance_hold starts them: UTC day, ISO week from Monday, month", async () => {
    const instants = [
      "2026-03-04T10:00:00.000Z", // a Wednesday
      "2026-03-08T23:59:59.999Z", // Sunday: still the week that began on Monday the 2nd
      "2026-03-09T00:00:00.000Z", // Monday midnight starts a new week
      "2026-01-01T00:00:00.000Z", // a Thursday, New Year: the ISO week began in December
      "2024-02-29T12:00:00.000Z", // leap day
      "2026-12-31T23:59:59.999Z",
    ].map((text) => new Date(text));
    for (const now of instants) {
      for (const reset of KEY_LIMIT_RESETS) {
        const unit = { daily: "day", weekly: "week", monthly: "month" }[reset];
        const [row] = rowsOf<{ start: string }>(
          await db().execute(
            sql`select to_char(date_trunc(${unit}, ${now.toISOString()}::timestamptz, 'UTC') at time zone 'UTC',
              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as start`,
          ),
        );
        expect(currentPeriodStart(reset, now)?.toISOString(), `${reset} at ${now.toISOString()}`).toBe(row?.start);
      }
      expect(currentPeriodStart(null, now)).toBeNull();
    }
    expect(currentPeriodStart("weekly", new Date("2026-03-08T23:59:59.999Z"))?.toISOString()).toBe(
      "2026-03-02T00:00:00.000Z",
    );
  });

  it("shows the current period's spend and counts a stale period as zero", async () => {
    const { userId } = await harness.createFundedUser("0");
    const { key } = await createApiKey(db(), {
      userId,
      name: "daily",
      spendLimitNano: 2_000_000_000n,
      limitReset: "daily",
    });
    await db()
      .update(apiKeys)
      .set({ periodSpendNano: 500_000_001n, periodStartedAt: new Date("2026-03-04T00:00:00Z") })
      .where(eq(apiKeys.id, key.id));
    const row = await rowOf(key.id);

    expect(describeApiKey(row, new Date("2026-03-04T23:59:59Z"))).toMatchObject({
      spendLimitUsd: "2",
      limitReset: "daily",
      periodStartedAt: new Date("2026-03-04T00:00:00Z"),
      periodSpendUsd: "0.500000001",
      remainingUsd: "1.499999999",
      status: "active",
    });
    expect(describeApiKey(row, new Date("2026-03-05T00:00:00Z"))).toMatchObject({
      periodStartedAt: new Date("2026-03-05T00:00:00Z"),
      periodSpendUsd: "0",
      remainingUsd: "2",
    });
  });

  it("never shows a negative remainder, and none without a limit", async () => {
    const { userId } = await harness.createFundedUser("0");
    const { key } = await createApiKey(db(), { userId, name: "total", spendLimitNano: 100n });
    await db().update(apiKeys).set({ periodSpendNano: 250n }).where(eq(apiKeys.id, key.id));
    expect(describeApiKey(await rowOf(key.id))).toMatchObject({ periodSpendUsd: "0.00000025", remainingUsd: "0" });
    const { key: unlimited } = await createApiKey(db(), { userId, name: "unlimited" });
    expect(describeApiKey(unlimited)).toMatchObject({ spendLimitUsd: null, remainingUsd: null, limitReset: null });
  });
});

describe("key limits", () => {
  it("are stored exactly on create and changed field by field", async () => {
    const { userId } = await harness.createFundedUser("0");
    const expiresAt = new Date("2031-01-01T00:00:00Z");
    const { key } = await createApiKey(db(), {
      userId,
      name: "limited",
      spendLimitNano: 12_345_678_901n,
      limitReset: "weekly",
      expiresAt,
    });
    expect(await rowOf(key.id)).toMatchObject({ spendLimitNano: 12_345_678_901n, limitReset: "weekly", expiresAt });

    await updateApiKeyLimits(db(), changes(), { id: key.id, spendLimitNano: 1n });
    expect(await rowOf(key.id)).toMatchObject({ spendLimitNano: 1n, limitReset: "weekly", expiresAt });
    await updateApiKeyLimits(db(), changes(), { id: key.id, limitReset: null, expiresAt: null });
    expect(await rowOf(key.id)).toMatchObject({ spendLimitNano: 1n, limitReset: null, expiresAt: null });
    await updateApiKeyLimits(db(), changes(), { id: key.id, limitReset: "monthly" });
    // Removing the limit removes its reset period with it.
    await updateApiKeyLimits(db(), changes(), { id: key.id, spendLimitNano: null });
    expect(await rowOf(key.id)).toMatchObject({ spendLimitNano: null, limitReset: null });
  });

  it("refuses negative limits, a reset period without a limit, and other users' keys", async () => {
    const { userId, apiKeyId } = await harness.createFundedUser("0");
    const other = await harness.createFundedUser("0");
    await expect(createApiKey(db(), { userId, name: "x", spendLimitNano: -1n })).rejects.toBeInstanceOf(
      ApiKeyInputError,
    );
    await expect(createApiKey(db(), { userId, name: "x", limitReset: "daily" })).rejects.toThrow(
      "A reset period needs a spend limit",
    );
    await expect(updateApiKeyLimits(db(), changes(), { id: apiKeyId, limitReset: "daily" })).rejects.toBeInstanceOf(
      ApiKeyInputError,
    );
    await expect(
      updateApiKeyLimits(db(), changes(), { id: apiKeyId, userId: other.userId, spendLimitNano: 5n }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect((await rowOf(apiKeyId)).spendLimitNano).toBeNull();
  });
});

describe("disabling a key", () => {
  it("refuses it on /v1 at once and admits it again once enabled, without waiting for any cache", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    // A successful call puts the key in the authenticator's cache for a minute.
    expect((await chat(apiKey)).status).toBe(200);

    const disabled = await setApiKeyDisabled(db(), changes(), { idOrPrefix: apiKeyId, disabled: true });
    expect(disabled.disabledAt).toBeInstanceOf(Date);
    const refused = await chat(apiKey);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { type: string; code: string } }).error).toMatchObject({
      type: "authentication_error",
      code: "api_key_disabled",
    });
    expect(await findApiKeyByHash(db(), hashApiKey(apiKey))).toMatchObject({ disabledAt: disabled.disabledAt });

    // The refusal is cached too (briefly); enabling must evict it.
    await setApiKeyDisabled(db(), changes(), { idOrPrefix: disabled.prefix, disabled: false });
    expect((await rowOf(apiKeyId)).disabledAt).toBeNull();
    expect((await chat(apiKey)).status).toBe(200);
  });

  it("keeps the first disable time, and an expiry set in the past refuses the key at once", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    const first = await setApiKeyDisabled(db(), changes(), { idOrPrefix: apiKeyId, disabled: true });
    const second = await setApiKeyDisabled(db(), changes(), { idOrPrefix: apiKeyId, disabled: true });
    expect(second.disabledAt).toEqual(first.disabledAt);
    await setApiKeyDisabled(db(), changes(), { idOrPrefix: apiKeyId, disabled: false });

    expect((await chat(apiKey)).status).toBe(200);
    await updateApiKeyLimits(db(), changes(), { id: apiKeyId, expiresAt: new Date(Date.now() - 1_000) });
    expect((await chat(apiKey)).status).toBe(401);
    await updateApiKeyLimits(db(), changes(), { id: apiKeyId, expiresAt: null });
    expect((await chat(apiKey)).status).toBe(200);
  });

  it("cannot touch a revoked key", async () => {
    const { apiKeyId } = await harness.createFundedUser("0");
    await db().update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKeyId));
    await expect(setApiKeyDisabled(db(), changes(), { idOrPrefix: apiKeyId, disabled: false })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
