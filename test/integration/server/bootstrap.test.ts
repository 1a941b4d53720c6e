import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { Env } from "~/env";
import { NULL_CHANGE_BUS } from "~/server/changes";
import { bootstrap } from "~/server/bootstrap";
import { createSecretBox, parseEncryptionKey } from "~/server/crypto/secret-box";
import { channels, modelEndpoints, models, users } from "~/server/db/schema";
import { silentLogger } from "~/server/gateway/logger";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { updateModelEndpoint } from "~/server/services/model-endpoints";
import { authenticateUser } from "~/server/services/users";
import { TEST_ACTOR } from "../../helpers/audit";
import { TEST_SECRETS, testEnv } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent } from "../../helpers/ledger-assertions";
import { createTestDatabase, type TestDatabase } from "../../helpers/test-database";

const secretBox = createSecretBox(parseEncryptionKey(TEST_SECRETS.ENCRYPTION_KEY));
let database: TestDatabase | undefined;

afterEach(async () => {
  await database?.drop();
  database = undefined;
});

async function run(env: Env, printed: string[] = []) {
  database ??= await createTestDatabase();
  await bootstrap({
    db: database.handle.db,
    env,
    secretBox,
    changes: null,
    logger: silentLogger,
    print: (line) => printed.push(line),
  });
  return database.handle.db;
}

describe("bootstrap", () => {
  it("creates the catalog, the demo channel and the first admin with starting credit, once", async () => {
    const { env } = testEnv({ ADMIN_EMAIL: "", ADMIN_PASSWORD: "" });
    const printed: string[] = [];
    const db = await run(env, printed);

    const [admin] = await db.select().from(users).where(eq(users.role, "admin"));
    expect(admin?.email).toBe("admin@tollgate.local");
    const password = /admin@tollgate\.local \/ (\S+)/.exec(printed.join("\n"))?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(await authenticateUser(db, "admin@tollgate.local", password)).not.toBeNull();
    expect(await balanceOf(db, admin!.id)).toBe(parseUsdToNano("10"));
    await expectLedgerConsistent(db, admin!.id);

    const demoModel = await db.select().from(models).where(eq(models.id, "tollgate/echo"));
    expect(demoModel).toHaveLength(1);
    expect((await db.select().from(models)).length).toBeGreaterThan(10);
    const [demo] = await db.select().from(channels).where(eq(channels.kind, "demo"));
    const demoEndpoints = await db.select().from(modelEndpoints).where(eq(modelEndpoints.channelId, demo!.id));
    expect(demoEndpoints.map((endpoint) => endpoint.modelId)).toEqual(["tollgate/echo"]);

    // A second start changes nothing and prints no new password.
    await run(env, printed);
    expect(await db.select().from(users)).toHaveLength(1);
    expect(await db.select().from(channels)).toHaveLength(1);
    expect(printed.filter((line) => line.includes("admin account created"))).toHaveLength(1);
    expect(await balanceOf(db, admin!.id)).toBe(parseUsdToNano("10"));
  });

  it("creates channels from provider keys in the environment, encrypted, and follows key changes", async () => {
    const { env } = testEnv({
      OPENAI_API_KEY: "sk-openai-first",
      ANTHROPIC_API_KEY: "sk-ant-1",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9/v1",
    });
    const db = await run(env);
    const rows = await db.select().from(channels);
    const openai = rows.find((row) => row.name === "openai");
    expect(openai).toMatchObject({ kind: "openai", provider: "openai", baseUrl: "https://api.openai.com/v1" });
    expect(openai?.encryptedSecret).not.toContain("sk-openai-first");
    expect(secretBox.decrypt(openai!.encryptedSecret!)).toBe("sk-openai-first");
    expect(rows.find((row) => row.name === "anthropic")).toMatchObject({
      kind: "anthropic",
      baseUrl: "http://127.0.0.1:9/v1",
    });
    const openaiModels = await db.select().from(modelEndpoints).where(eq(modelEndpoints.channelId, openai!.id));
    expect(openaiModels.map((endpoint) => endpoint.modelId)).toContain("openai/gpt-4.1");
    expect(openaiModels.find((endpoint) => endpoint.modelId === "openai/gpt-4.1")).toMatchObject({
      upstreamModel: "gpt-4.1",
      inputPriceNano: parseUsdToNano("2"),
      outputPriceNano: parseUsdToNano("8"),
    });

    // An admin reprices one of its endpoints; the next start (a new key in the environment) keeps that price.
    const gpt41 = openaiModels.find((endpoint) => endpoint.modelId === "openai/gpt-4.1")!;
    await updateModelEndpoint(db, NULL_CHANGE_BUS, gpt41.id, { inputPrice: parseUsdToNano("2.5") }, TEST_ACTOR);
    await run(testEnv({ OPENAI_API_KEY: "sk-openai-second" }).env);
    const [updated] = await db.select().from(channels).where(eq(channels.name, "openai"));
    expect(secretBox.decrypt(updated!.encryptedSecret!)).toBe("sk-openai-second");
    const [kept] = await db.select().from(modelEndpoints).where(eq(modelEndpoints.id, gpt41.id));
    expect(kept).toMatchObject({ inputPriceNano: parseUsdToNano("2.5"), upstreamModel: "gpt-4.1" });
  });

  it("starts when a configured channel's stored key cannot be decrypted, storing the configured key again", async () => {
    const { env } = testEnv({ OPENAI_API_KEY: "sk-openai-env" });
    const db = await run(env);
    // Written under a key this server does not have (ENCRYPTION_KEY changed, or a backup restored without it).
    const stranger = createSecretBox(parseEncryptionKey("c".repeat(64)));
    await db
      .update(channels)
      .set({ encryptedSecret: stranger.encrypt("sk-openai-env") })
      .where(eq(channels.name, "openai"));
    await run(env);
    const [openai] = await db.select().from(channels).where(eq(channels.name, "openai"));
    expect(secretBox.decrypt(openai!.encryptedSecret!)).toBe("sk-openai-env");
  });
});
