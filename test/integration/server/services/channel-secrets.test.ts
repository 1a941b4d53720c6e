import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCliContextFromContainer, runCli } from "~/cli/run-cli";
import { decode, encode } from "@auth/core/jwt";
import { createAuthConfig } from "~/server/auth/config";
import { createSecretBox } from "~/server/crypto/secret-box";
import { auditLog, channels } from "~/server/db/schema";
import { loadCatalog } from "~/server/gateway/routing/load-catalog";
import { addChannel } from "~/server/services/channels";
import { TEST_ACTOR } from "../../../helpers/audit";
import { startGatewayHarness, type GatewayHarness } from "../../../helpers/gateway-harness";
import { startReplayUpstream, type ReplayUpstream } from "../../../helpers/replay-upstream";

/*
 * Rotating ENCRYPTION_KEY: the new key in ENCRYPTION_KEY, the old one in ENCRYPTION_KEY_PREVIOUS, then
 * `tollgate secrets reencrypt`; every channel keeps working throughout, and afterwards the old key is not needed.
 */

const OLD_KEY = "a".repeat(64);
const NEW_KEY = "b".repeat(64);
const PREVIOUS_AUTH_SECRET = "the-secret-before-".padEnd(40, "y");
const UPSTREAM_KEYS = { first: "sk-rotate-first-1111", second: "sk-rotate-second-2222" };

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let apiKey: string;

beforeAll(async () => {
  harness = await startGatewayHarness({
    env: {
      ENCRYPTION_KEY: NEW_KEY,
      ENCRYPTION_KEY_PREVIOUS: OLD_KEY,
      AUTH_SECRET_PREVIOUS: PREVIOUS_AUTH_SECRET,
    },
  });
  upstream = await startReplayUpstream();
  // Channels written before the rotation: their keys are under the old key.
  const before = createSecretBox(Buffer.from(OLD_KEY, "hex"));
  const { db, changes } = harness.container;
  for (const [name, key] of Object.entries(UPSTREAM_KEYS)) {
    await addChannel(
      db,
      before,
      changes,
      {
        kind: "openai",
        name,
        baseUrl: upstream.baseUrl,
        apiKey: key,
        models: [{ modelId: name === "first" ? "openai/gpt-4.1" : "openai/gpt-4o", upstreamModel: "gpt-4.1" }],
      },
      TEST_ACTOR,
    );
  }
  await harness.container.catalog.reload();
  apiKey = (await harness.createFundedUser("5")).apiKey;
}, 60_000);

afterAll(async () => {
  await harness.stop();
  await upstream.close();
});

async function callEach(): Promise<(string | undefined)[]> {
  const sent: (string | undefined)[] = [];
  for (const model of ["openai/gpt-4.1", "openai/gpt-4o"]) {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
    sent.push(upstream.received.at(-1)?.headers.authorization);
  }
  return sent;
}

describe("ENCRYPTION_KEY rotation", () => {
  it("keeps every channel usable with the old key as previous, re-encrypts all under the new one, audited", async () => {
    const expected = [`Bearer ${UPSTREAM_KEYS.first}`, `Bearer ${UPSTREAM_KEYS.second}`];
    expect(await callEach()).toEqual(expected);

    const context = createCliContextFromContainer(harness.container, "cli:rotator@ops");
    const result = await runCli(["secrets", "reencrypt"], context);
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    expect(result.stdout).toContain("Re-encrypted the keys of 2 channels");

    // The new key alone now reads every channel key: the old one can go.
    const newOnly = createSecretBox(Buffer.from(NEW_KEY, "hex"));
    const unreadable: string[] = [];
    const models = await loadCatalog(
      harness.container.db,
      (text) => newOnly.decrypt(text),
      0n,
      (name) => unreadable.push(name),
    );
    expect(unreadable).toEqual([]);
    const routedKeys = models.flatMap((model) => model.endpoints.map((endpoint) => endpoint.channel.apiKey));
    expect(routedKeys).toEqual(expect.arrayContaining(Object.values(UPSTREAM_KEYS)));
    await harness.container.catalog.reload();
    expect(await callEach()).toEqual(expected);

    const audited = await harness.container.db.select().from(auditLog).where(eq(auditLog.action, "channel.reencrypt"));
    expect(audited.map((row) => [row.targetLabel, row.actor]).sort()).toEqual([
      ["first", "cli:rotator@ops"],
      ["second", "cli:rotator@ops"],
    ]);
    // Nothing secret in the audit rows.
    expect(JSON.stringify(audited)).not.toContain("sk-rotate");
    // A second run finds nothing left under the old key, and changes (and audits) nothing.
    const again = await runCli(["secrets", "reencrypt"], context);
    expect(again.stdout).toContain("already under the current ENCRYPTION_KEY");
    expect(await harness.container.db.$count(auditLog, eq(auditLog.action, "channel.reencrypt"))).toBe(2);
  });

  it("leaves out a channel whose key no configured key reads (the gateway stays up), and refuses to re-encrypt it", async () => {
    const stranger = createSecretBox(Buffer.from("c".repeat(64), "hex"));
    const [first] = await harness.container.db.select().from(channels).where(eq(channels.name, "first"));
    await harness.container.db
      .update(channels)
      .set({ encryptedSecret: stranger.encrypt("sk-unknown-key") })
      .where(eq(channels.name, "second"));
    const unreadable: string[] = [];
    const models = await loadCatalog(
      harness.container.db,
      (text) => harness.container.secretBox.decrypt(text),
      0n,
      (name) => unreadable.push(name),
    );
    expect(unreadable).toEqual(["second"]);
    expect(models.find((model) => model.id === "openai/gpt-4o")?.endpoints).toEqual([]);
    expect(models.find((model) => model.id === "openai/gpt-4.1")?.endpoints).toHaveLength(1);

    const result = await runCli(["secrets", "reencrypt"], createCliContextFromContainer(harness.container));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("second");
    expect(result.stderr).toContain("nothing was changed");
    const [firstAfter] = await harness.container.db.select().from(channels).where(eq(channels.name, "first"));
    expect(firstAfter!.encryptedSecret).toBe(first!.encryptedSecret);
  });

  it("accepts sessions signed with the previous AUTH_SECRET while signing new ones with the current", async () => {
    const config = createAuthConfig(harness.container);
    const secrets = [config.secret].flat() as string[];
    expect(secrets).toEqual([harness.container.authSecret, PREVIOUS_AUTH_SECRET]);
    // A session cookie made before the rotation still opens; one made with neither secret does not.
    const salt = "authjs.session-token";
    const old = await encode({ token: { sub: "user-before-rotation" }, secret: PREVIOUS_AUTH_SECRET, salt });
    expect((await decode({ token: old, secret: secrets, salt }))?.sub).toBe("user-before-rotation");
    const forged = await encode({ token: { sub: "forged" }, secret: "some-other-secret-".padEnd(40, "z"), salt });
    await expect(decode({ token: forged, secret: secrets, salt })).rejects.toThrow();
  });
});
