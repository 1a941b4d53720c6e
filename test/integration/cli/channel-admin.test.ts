import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "~/cli/run-cli";
import { channels } from "~/server/db/schema";
import { silentLogger } from "~/server/gateway/logger";
import { createCatalog, type Catalog } from "~/server/gateway/routing/catalog";
import { loadCatalog } from "~/server/gateway/routing/load-catalog";
import { markChannelBroken } from "~/server/services/channels";
import { TEST_MAX_TOKENS } from "~/server/services/test-channel";
import {
  openAIInvalidKeyBody,
  refusedBaseUrl,
  startStubUpstream,
  type StubUpstream,
} from "../../helpers/channel-test-upstream";
import { emptyCounts, histogramBin, MINUTE_MS } from "~/server/gateway/routing/channel-stats";
import { addChannelStatDeltas } from "~/server/services/channel-stats";
import { fixture } from "../../helpers/fixtures";
import { availableDatabaseKinds } from "../../helpers/test-database";
import { writeTestCatalog } from "./catalog-fixture";
import { createCliTestContext, expectOneLineError, SLOW, type CliTestContext } from "./cli-harness";

/*
 * `channel edit|enable|disable|test|list` against a real database, with a gateway's in-memory catalog listening to the
 * changes the commands publish (as a running server does), and a local upstream for the tests. No output may ever
 * contain an upstream key.
 */

const SECRET = "sk-first-upstream-secret-0001";
const NEW_SECRET = "sk-second-upstream-secret-0002";
const RECORDED_COMPLETION = fixture("openai/finish-length");

describe.each(availableDatabaseKinds())("channel administration on %s", (kind) => {
  let harness: CliTestContext;
  let catalog: Catalog;
  let upstream: StubUpstream;
  const run = (...argv: string[]) => runCli(argv, harness.context);
  const db = () => harness.context.db;
  const row = async (name: string) => (await db().select().from(channels).where(eq(channels.name, name)))[0]!;
  /** The channels a gateway would route `openai/test-alpha` to, by name. */
  const routed = () => catalog.getModel("openai/test-alpha")?.endpoints.map((endpoint) => endpoint.channel) ?? [];
  const routedNames = () => routed().map((channel) => channel.name);
  const answerWithCompletion = () =>
    upstream.answer({ status: RECORDED_COMPLETION.status, body: RECORDED_COMPLETION.body });
  const neverShowsAKey = (...outputs: string[]) => {
    for (const output of outputs) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(NEW_SECRET);
    }
  };

  beforeAll(async () => {
    harness = await createCliTestContext(kind, { NEW_UPSTREAM_KEY: NEW_SECRET });
    const { secretBox, changes } = harness.context;
    catalog = await createCatalog({
      load: () => loadCatalog(db(), (ciphertext) => secretBox.decrypt(ciphertext)),
      logger: silentLogger,
    });
    changes.subscribe(async (change) => {
      if (change.topic === "catalog-changed") await catalog.reload();
    });
    expect((await run("catalog", "import", writeTestCatalog(harness.dataDir))).exitCode).toBe(0);
    upstream = await startStubUpstream({ status: RECORDED_COMPLETION.status, body: RECORDED_COMPLETION.body });
    for (const [name, priority] of [
      ["primary", "1"],
      ["spare", "0"],
    ] as const) {
      const added = await run(
        "channel",
        "add",
        "--kind",
        "openai",
        "--name",
        name,
        "--base-url",
        upstream.baseUrl,
        "--api-key",
        SECRET,
        "--priority",
        priority,
      );
      expect(added.exitCode).toBe(0);
    }
  }, SLOW);

  afterAll(async () => {
    await upstream?.close();
    await harness?.close();
  }, SLOW);

  describe("channel edit", () => {
    it("changes the fields given, re-encrypts a new key, and gateways reload with the change", async () => {
      expect(routedNames().sort()).toEqual(["primary", "spare"]);
      const published = harness.published.length;
      const result = await run(
        "channel",
        "edit",
        "spare",
        "--name",
        "backup",
        "--priority",
        "-3",
        "--weight",
        "7",
        "--retains-data",
        "false",
        "--provider",
        "OpenAI-Mirror",
        "--api-key-env",
        "NEW_UPSTREAM_KEY",
      );
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout).toBe("Updated channel backup: name, key, provider, priority, weight, retains data\n");
      neverShowsAKey(result.stdout);

      const edited = await row("backup");
      expect(edited).toMatchObject({ priority: -3, weight: 7, retainsData: false, provider: "openai-mirror" });
      expect(edited.encryptedSecret).not.toContain(NEW_SECRET);
      expect(harness.context.secretBox.decrypt(edited.encryptedSecret!)).toBe(NEW_SECRET);
      expect(harness.published.slice(published)).toEqual([{ topic: "catalog-changed" }]);
      // The gateway's catalog already routes by the new values.
      expect(routed().find((channel) => channel.name === "backup")).toMatchObject({
        id: edited.id,
        priority: -3,
        weight: 7,
        retainsData: false,
        provider: "openai-mirror",
        apiKey: NEW_SECRET,
      });
      expect(routedNames()).not.toContain("spare");
    });

    it("takes the channel's id as well, and answers --json without the key", async () => {
      const { id } = await row("backup");
      const result = await run("channel", "edit", id, "--base-url", `${upstream.baseUrl}/`, "--json");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ id, name: "backup", baseUrl: upstream.baseUrl, hasKey: true });
      neverShowsAKey(result.stdout);
      expect(result.stdout).not.toContain("encryptedSecret");
    });

    it("sets a timeout and resets it to the configured default with `default`", async () => {
      const set = await run("channel", "edit", "backup", "--connect-timeout-ms", "5000", "--total-timeout-ms", "60000");
      expect(set.stdout).toBe("Updated channel backup: connect timeout, total timeout\n");
      expect(await row("backup")).toMatchObject({
        connectTimeoutMs: 5000,
        firstByteTimeoutMs: null,
        idleTimeoutMs: null,
        totalTimeoutMs: 60000,
      });
      expect((await run("channel", "list")).stdout).toMatch(/backup .*connect 5000, total 60000/);

      await run("channel", "edit", "backup", "--connect-timeout-ms", "default", "--idle-timeout-ms", "250");
      expect(await row("backup")).toMatchObject({ connectTimeoutMs: null, idleTimeoutMs: 250, totalTimeoutMs: 60000 });
      await run("channel", "edit", "backup", "--idle-timeout-ms", "DEFAULT", "--total-timeout-ms", "default");
      expect(await row("backup")).toMatchObject({ idleTimeoutMs: null, totalTimeoutMs: null });
      expect((await run("channel", "list")).stdout).toMatch(/backup .*default/);
    });

    it("refuses bad input as usage errors, an unknown channel and a taken name in one line, changing nothing", async () => {
      const before = await row("backup");
      const edit = (...extra: string[]) => run("channel", "edit", "backup", ...extra);
      expect(expectOneLineError(await edit(), 2)).toMatch(/^give at least one of --name, --base-url, --api-key, /);
      for (const bad of ["0", "-5", "1.5", "soon", "2147483648"]) {
        expect(expectOneLineError(await edit("--first-byte-timeout-ms", bad), 2)).toMatch(
          /^--first-byte-timeout-ms must be a whole number of milliseconds ≥ 1, or default/,
        );
      }
      expect(expectOneLineError(await edit("--retains-data", "maybe"), 2)).toBe(
        '--retains-data must be true or false, not "maybe"',
      );
      expect(expectOneLineError(await edit("--weight", "0"), 2)).toMatch(/^--weight must be an integer of at least 1/);
      expect(expectOneLineError(await edit("--base-url", "ftp://x.example"), 2)).toBe(
        "--base-url must be an http or https URL",
      );
      expect(expectOneLineError(await edit("--base-url", "https://u:p@x.example"), 2)).toBe(
        "--base-url must not contain credentials; use --api-key",
      );
      expect(expectOneLineError(await edit("--api-key", " "), 2)).toBe("--api-key must not be blank");
      expect(expectOneLineError(await edit("--api-key-env", "UNSET_VARIABLE_XYZ"), 2)).toBe(
        "--api-key-env: environment variable UNSET_VARIABLE_XYZ is not set",
      );
      expect(expectOneLineError(await edit("--name", "primary"))).toBe("a channel named primary already exists");
      expect(expectOneLineError(await run("channel", "edit", "nope", "--weight", "2"))).toBe("No channel nope");
      expect(expectOneLineError(await run("channel", "edit", "--weight", "2"), 2)).toMatch(/^missing NAME_OR_ID/);
      expect(await row("backup")).toEqual(before);
    });
  });

  describe("channel disable and enable", () => {
    it("disable takes the channel's endpoints out of routing; enable puts them back", async () => {
      const disabled = await run("channel", "disable", "backup");
      expect(disabled).toMatchObject({ exitCode: 0, stdout: "Disabled channel backup\n" });
      expect((await row("backup")).enabled).toBe(false);
      expect(routedNames()).toEqual(["primary"]);
      expect((await run("channel", "list")).stdout).toMatch(/backup\s+openai\s+openai-mirror\s+\S+\s+no\s/);

      const enabled = await run("channel", "enable", "backup");
      expect(enabled).toMatchObject({ exitCode: 0, stdout: "Enabled channel backup\n" });
      expect((await row("backup")).enabled).toBe(true);
      expect(routedNames().sort()).toEqual(["backup", "primary"]);
    });

    it("enable clears a broken mark, which channel list shows with its reason until then", async () => {
      await markChannelBroken(db(), harness.context.changes, (await row("backup")).id, "upstream answered 401");
      expect(routedNames()).toEqual(["primary"]);
      const listed = await run("channel", "list");
      expect(listed.stdout).toMatch(/backup .*broken: upstream answered 401/);
      const json = JSON.parse((await run("channel", "list", "--json")).stdout) as Record<string, unknown>[];
      expect(json.find((channel) => channel.name === "backup")).toMatchObject({
        enabled: true,
        brokenReason: "upstream answered 401",
      });

      const enabled = await run("channel", "enable", "backup");
      expect(enabled.stdout).toBe(
        "Enabled channel backup; its broken mark (upstream answered 401) is cleared and gateways route to it again\n",
      );
      expect(await row("backup")).toMatchObject({ brokenAt: null, brokenReason: null, enabled: true });
      expect(routedNames().sort()).toEqual(["backup", "primary"]);
    });

    it("a new key clears a broken mark; a change of weight does not", async () => {
      const { id } = await row("backup");
      await markChannelBroken(db(), harness.context.changes, id, "upstream answered 403");
      await run("channel", "edit", "backup", "--weight", "2");
      expect((await row("backup")).brokenReason).toBe("upstream answered 403");
      expect(routedNames()).toEqual(["primary"]);

      const fixed = await run("channel", "edit", "backup", "--api-key", NEW_SECRET);
      expect(fixed.stdout).toBe(
        "Updated channel backup: key; its broken mark (upstream answered 403) is cleared and gateways route to it again\n",
      );
      neverShowsAKey(fixed.stdout);
      expect((await row("backup")).brokenAt).toBeNull();
      expect(routedNames().sort()).toEqual(["backup", "primary"]);
    });
  });

  describe("channel test", () => {
    it("sends one tiny request through the channel's adapter and records latency, status 200 and no error", async () => {
      answerWithCompletion();
      const sent = upstream.received.length;
      const result = await run("channel", "test", "primary");
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout).toMatch(/^OK: channel primary \(test-alpha\): HTTP 200 in \d+ ms\n$/);
      neverShowsAKey(result.stdout);

      expect(upstream.received).toHaveLength(sent + 1);
      const request = upstream.received.at(-1)!;
      expect(request).toMatchObject({ method: "POST", url: "/v1/chat/completions" });
      expect(request.headers.authorization).toBe(`Bearer ${SECRET}`);
      const body = request.body as Record<string, unknown>;
      expect(body).toMatchObject({ model: "test-alpha", messages: [{ role: "user", content: "ping" }] });
      expect(body.stream ?? false).toBe(false);
      const maxTokens = (body.max_completion_tokens ?? body.max_tokens) as number;
      expect(maxTokens).toBe(TEST_MAX_TOKENS);
      expect(maxTokens).toBeLessThanOrEqual(5);

      const tested = await row("primary");
      expect(tested).toMatchObject({ lastTestStatus: 200, lastTestError: null });
      expect(tested.lastTestedAt).toBeInstanceOf(Date);
      expect(tested.lastTestLatencyMs).toBeGreaterThanOrEqual(0);
      expect((await run("channel", "list")).stdout).toMatch(/primary .*200 in \d+ ms at \d{4}-/);
    });

    it("--model picks another of the channel's upstream models, and refuses one it does not serve", async () => {
      answerWithCompletion();
      const json = await run("channel", "test", "primary", "--model", "test-beta", "--json");
      expect(json.exitCode).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        channel: "primary",
        upstreamModel: "test-beta",
        ok: true,
        status: 200,
        error: null,
      });
      expect((upstream.received.at(-1)!.body as { model: string }).model).toBe("test-beta");

      const sent = upstream.received.length;
      expect(expectOneLineError(await run("channel", "test", "primary", "--model", "gpt-nope"))).toBe(
        "channel primary serves no upstream model gpt-nope (it serves test-alpha, test-beta)",
      );
      expect(upstream.received).toHaveLength(sent);
    });

    it("records a 401 with the adapter's message, never the key the upstream quoted, and marks the channel broken", async () => {
      upstream.answer({ status: 401, body: openAIInvalidKeyBody(SECRET) });
      const result = await run("channel", "test", "primary");
      const message = expectOneLineError(result);
      expect(message).toMatch(
        /^channel primary \(test-alpha\): HTTP 401 in \d+ ms: The upstream provider rejected the gateway's credentials\.; it is marked broken /,
      );
      neverShowsAKey(result.stderr);

      const tested = await row("primary");
      expect(tested).toMatchObject({
        lastTestStatus: 401,
        lastTestError: "The upstream provider rejected the gateway's credentials.",
        brokenReason: "upstream answered 401 to a channel test",
      });
      expect(tested.lastTestLatencyMs).toBeGreaterThanOrEqual(0);
      expect(routedNames()).toEqual(["backup"]);
      const listed = await run("channel", "list");
      expect(listed.stdout).toMatch(/primary .*broken: upstream answered 401 to a channel test/);
      neverShowsAKey(listed.stdout, (await run("channel", "list", "--json")).stdout);
    });

    it("a successful test clears the broken mark: the key demonstrably works", async () => {
      answerWithCompletion();
      const result = await run("channel", "test", "primary");
      expect(result.stdout).toMatch(
        /^OK: channel primary \(test-alpha\): HTTP 200 in \d+ ms; its broken mark is cleared and gateways route to it again\n$/,
      );
      expect(await row("primary")).toMatchObject({ brokenAt: null, lastTestStatus: 200, lastTestError: null });
      expect(routedNames().sort()).toEqual(["backup", "primary"]);
    });

    it("records a refused connection as an error without a status", async () => {
      await run("channel", "edit", "backup", "--base-url", await refusedBaseUrl());
      const sent = upstream.received.length;
      const result = await run("channel", "test", "backup");
      expect(expectOneLineError(result)).toMatch(
        /^channel backup \(test-alpha\): no HTTP status in \d+ ms: no answer: .*ECONNREFUSED/,
      );
      neverShowsAKey(result.stderr);
      expect(upstream.received).toHaveLength(sent);

      const tested = await row("backup");
      expect(tested.lastTestStatus).toBeNull();
      expect(tested.lastTestError).toMatch(/^no answer: .*ECONNREFUSED/);
      expect(tested.lastTestLatencyMs).toBeGreaterThanOrEqual(0);
      // Not reaching the upstream says nothing about the key: the channel is not marked broken.
      expect(tested.brokenAt).toBeNull();
      expect((await run("channel", "list")).stdout).toMatch(/backup .*no answer in \d+ ms at \S+: no answer: /);
    });

    it("names an unknown channel in one line", async () => {
      expect(expectOneLineError(await run("channel", "test", "nope"))).toBe("No channel nope");
    });
  });

  it("channel list shows enabled, health, timeouts and the last test, in text and --json, never a key", async () => {
    const text = await run("channel", "list");
    expect(text.stdout.split("\n")[0]).toMatch(
      /^NAME\s+KIND\s+PROVIDER\s+BASE URL\s+ENABLED\s+PRIORITY\s+WEIGHT\s+ENDPOINTS\s+KEY\s+STATUS\s+TIMEOUTS \(MS\)\s+LAST TEST$/,
    );
    const json = JSON.parse((await run("channel", "list", "--json")).stdout) as Record<string, unknown>[];
    expect(json.find((channel) => channel.name === "primary")).toMatchObject({
      enabled: true,
      brokenAt: null,
      brokenReason: null,
      connectTimeoutMs: null,
      firstByteTimeoutMs: null,
      idleTimeoutMs: null,
      totalTimeoutMs: null,
      lastTestStatus: 200,
      lastTestError: null,
      hasKey: true,
    });
    expect(json.find((channel) => channel.name === "backup")).toMatchObject({ lastTestStatus: null });
    neverShowsAKey(text.stdout, JSON.stringify(json));
  });

  it("channel stats shows what every gateway stored per channel and upstream model", async () => {
    expect((await run("channel", "stats", "--channel", "backup")).stdout).toBe("No calls in the last day\n");
    const backup = await row("backup");
    // Two gateway processes flushed their counts for the current minute.
    const minute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    for (const outcomes of [
      ["success", "success", "provider_error"],
      ["success", "request_error"],
    ] as const) {
      const counts = emptyCounts();
      for (const outcome of outcomes) {
        if (outcome === "success") {
          counts.successes++;
          counts.firstToken[histogramBin(200)]!++;
          counts.latency[histogramBin(900)]!++;
        } else if (outcome === "provider_error") counts.providerErrors++;
        else counts.requestErrors++;
      }
      await addChannelStatDeltas(db(), [{ channelId: backup.id, upstreamModel: "test-alpha", minute, counts }]);
    }

    const text = await run("channel", "stats", "--channel", "backup");
    expect(text).toMatchObject({ exitCode: 0, stderr: "" });
    const [header, line, ...rest] = text.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^CHANNEL\s+UPSTREAM MODEL\s+CALLS 5M\/30M\/1D\s+UPTIME 5M\/30M\/1D\s+ERRORS 5M/);
    expect(rest).toEqual([]);
    expect(line).toMatch(/^backup\s+test-alpha\s+5\/5\/5\s+80\.0%\/80\.0%\/80\.0%\s+40\.0%\s+/);
    const [json] = JSON.parse((await run("channel", "stats", "--json")).stdout) as {
      channelName: string;
      stats: { last1d: { requests: number }; firstTokenMs: { p50: number } };
    }[];
    expect(json).toMatchObject({ channelName: "backup", stats: { last1d: { requests: 5 } } });
    expect(json!.stats.firstTokenMs.p50).toBeGreaterThan(160);
    expect(json!.stats.firstTokenMs.p50).toBeLessThan(250);
  });
});
