import { TEST_ACTOR } from "../../helpers/audit";
import { eq } from "drizzle-orm";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "~/cli/run-cli";
import { createCaller } from "~/server/api/root";
import { channels, users } from "~/server/db/schema";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";
import { sessionFor } from "../api/support";

/*
 * Base URLs in the providers' own SDK form, without the API version (`ANTHROPIC_BASE_URL=https://api.anthropic.com`,
 * the Gemini SDKs' `https://generativelanguage.googleapis.com`), from each place an operator gives one: the
 * environment, the CLI and the admin API. A client calls the production entry; a local upstream records the paths the
 * gateway called, which must be the providers' real ones (`/v1/messages`, `/v1beta/models/…`).
 */

const HAIKU = "anthropic/claude-haiku-4.5";
const FLASH = "google/gemini-2.5-flash";
const GEMINI_PATH = "/v1beta/models/gemini-2.5-flash:generateContent";

let upstream: ReplayUpstream;
/** The local upstream's root: the SDK form, no version segment. */
let root: string;
let harness: GatewayHarness;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startReplayUpstream();
  upstream.respondWith((request) => (request.url.includes("/messages") ? "anthropic/text" : "gemini/text"));
  root = new URL(upstream.baseUrl).origin;
  harness = await startGatewayHarness({
    env: {
      ANTHROPIC_API_KEY: "sk-ant-env",
      ANTHROPIC_BASE_URL: root,
      GEMINI_API_KEY: "gm-env",
      GEMINI_BASE_URL: `${root}/`,
    },
  });
  const { apiKey } = await harness.createFundedUser("5");
  client = new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
});

afterAll(async () => {
  await harness?.stop();
  await upstream?.close();
});

/** Calls `model` through the gateway; returns the request the upstream received for it. */
async function callThrough(model: string) {
  const before = upstream.received.length;
  const completion = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] });
  expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
  expect(upstream.received).toHaveLength(before + 1);
  return upstream.received.at(-1)!;
}

function cli(...argv: string[]) {
  const { db, database, changes, secretBox, env } = harness.container;
  return runCli(argv, { db, database, changes, secretBox, env, origin: "server", actor: TEST_ACTOR });
}

async function adminCaller() {
  const [admin] = await harness.container.db.select().from(users).where(eq(users.email, "admin@example.com"));
  return createCaller({
    headers: new Headers(),
    session: sessionFor({ id: admin!.id, email: admin!.email, role: "admin" }),
    container: harness.container,
  });
}

describe("base URLs without the API version (the providers' SDK form)", () => {
  it("from the environment: ANTHROPIC_BASE_URL and GEMINI_BASE_URL at the server's root", async () => {
    const anthropic = await callThrough(HAIKU);
    expect(anthropic.url).toBe("/v1/messages");
    expect(anthropic.headers["x-api-key"]).toBe("sk-ant-env");

    const gemini = await callThrough(FLASH);
    expect(gemini.url).toBe(GEMINI_PATH);
    expect(gemini.headers["x-goog-api-key"]).toBe("gm-env");

    // Stored as given: the version is added when the request is built, so older rows in either form work too.
    const rows = await harness.container.db.select().from(channels);
    expect(rows.find((row) => row.name === "anthropic")?.baseUrl).toBe(root);
    expect(rows.find((row) => row.name === "google")?.baseUrl).toBe(`${root}/`);
  });

  it("from the CLI (anthropic) and the admin API (gemini), in front of the environment's channels", async () => {
    const added = await cli(
      "channel",
      "add",
      "--kind",
      "anthropic",
      "--name",
      "anthropic-cli",
      "--base-url",
      root,
      "--api-key",
      "sk-ant-cli",
      "--models",
      HAIKU,
      "--priority",
      "10",
    );
    expect(added).toMatchObject({ exitCode: 0, stderr: "" });
    const admin = await adminCaller();
    await admin.admin.channels.create({
      kind: "gemini",
      name: "gemini-admin",
      baseUrl: `${root}/`,
      apiKey: "gm-admin",
      models: [{ modelId: FLASH }],
      priority: 10,
    });

    const anthropic = await callThrough(HAIKU);
    expect(anthropic.url).toBe("/v1/messages");
    expect(anthropic.headers["x-api-key"]).toBe("sk-ant-cli");

    const gemini = await callThrough(FLASH);
    expect(gemini.url).toBe(GEMINI_PATH);
    expect(gemini.headers["x-goog-api-key"]).toBe("gm-admin");

    // An admin's channel test goes through the same adapters.
    const [row] = await harness.container.db.select().from(channels).where(eq(channels.name, "gemini-admin"));
    expect(await admin.admin.channels.test({ id: row!.id })).toMatchObject({ ok: true, status: 200 });
    expect(upstream.received.at(-1)?.url).toBe(GEMINI_PATH);
  });

  it("keeps a version that is there and adds one after a proxy's path prefix", async () => {
    // Tollgate's earlier documented form: never doubled.
    expect(await cli("channel", "edit", "anthropic-cli", "--base-url", `${root}/v1/`)).toMatchObject({ exitCode: 0 });
    expect((await callThrough(HAIKU)).url).toBe("/v1/messages");

    // A proxy prefix is treated as the SDKs treat it: the version follows it.
    expect(await cli("channel", "edit", "anthropic-cli", "--base-url", `${root}/anthropic`)).toMatchObject({
      exitCode: 0,
    });
    expect((await callThrough(HAIKU)).url).toBe("/anthropic/v1/messages");

    // Gemini's stable version, when chosen, stays.
    const admin = await adminCaller();
    const [gemini] = await harness.container.db.select().from(channels).where(eq(channels.name, "gemini-admin"));
    await admin.admin.channels.update({ id: gemini!.id, patch: { baseUrl: `${root}/v1` } });
    expect((await callThrough(FLASH)).url).toBe("/v1/models/gemini-2.5-flash:generateContent");
  });
});
