import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { runCli } from "~/cli/run-cli";
import {
  apiKeys,
  balances,
  channels,
  ledgerEntries,
  modelEndpoints,
  models,
  promoCodes,
  users,
} from "~/server/db/schema";
import { hashApiKey, API_KEY_PATTERN } from "~/server/gateway/keys/api-key-format";
import { verifyPassword } from "~/server/services/users";
import { availableDatabaseKinds } from "../../helpers/test-database";
import { catalogFileSchema } from "~/server/catalog/catalog-file";
import { writeTestCatalog } from "./catalog-fixture";
import { createCliTestContext, expectOneLineError, lastLine, SLOW, type CliTestContext } from "./cli-harness";

describe.each(availableDatabaseKinds())("CLI commands on %s", (kind) => {
  let harness: CliTestContext;
  const run = (...argv: string[]) => runCli(argv, harness.context);
  const db = () => harness.context.db;
  const userByEmail = async (email: string) => (await db().select().from(users).where(eq(users.email, email)))[0];
  const balanceOf = async (userId: string) =>
    (await db().select().from(balances).where(eq(balances.userId, userId)))[0]?.balanceNano;

  beforeAll(async () => {
    harness = await createCliTestContext(kind, { UPSTREAM_KEY_FOR_TEST: "sk-from-environment-42" });
  }, SLOW);
  afterAll(() => harness.close(), SLOW);

  describe("user create", () => {
    it("creates a user with an argon2 password hash and a zero balance", async () => {
      const result = await run(
        "user",
        "create",
        "--email",
        "Alice@Example.com",
        "--password",
        "correct-horse",
        "--name",
        "Alice",
      );
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout).toMatch(/^Created user alice@example\.com \(id [0-9a-f-]{36}\)\n$/);

      const user = await userByEmail("alice@example.com");
      expect(user).toMatchObject({ email: "alice@example.com", name: "Alice", role: "user" });
      expect(user!.passwordHash).toMatch(/^\$argon2id\$/);
      expect(await verifyPassword(user!.passwordHash!, "correct-horse")).toBe(true);
      expect(await balanceOf(user!.id)).toBe(0n);
    });

    it("makes admins and answers --json", async () => {
      const result = await run(
        "--json",
        "user",
        "create",
        "--email",
        "root@example.com",
        "--password",
        "admin-pass-1",
        "--admin",
      );
      expect(result.exitCode).toBe(0);
      const body = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(body).toMatchObject({ email: "root@example.com", role: "admin", name: null });
      expect((await userByEmail("root@example.com"))?.id).toBe(body.id);
    });

    it("refuses a taken email in one line, exit 1", async () => {
      const message = expectOneLineError(
        await run("user", "create", "--email", "ALICE@example.com", "--password", "another-pass"),
      );
      expect(message).toBe("A user with email alice@example.com already exists");
    });

    it("rejects a bad email or a short password as usage errors, creating nothing", async () => {
      expect(
        expectOneLineError(await run("user", "create", "--email", "not-an-email", "--password", "long-enough"), 2),
      ).toMatch(/^--email: /);
      expect(
        expectOneLineError(await run("user", "create", "--email", "bob@example.com", "--password", "short"), 2),
      ).toBe("--password: Passwords need at least 8 characters");
      expect(expectOneLineError(await run("user", "create", "--email", "bob@example.com"), 2)).toMatch(
        /^--password is required/,
      );
      expect(await userByEmail("bob@example.com")).toBeUndefined();
    });
  });

  describe("credits add", () => {
    it("credits the exact nano amount through a ledger entry and tells gateways", async () => {
      const user = (await userByEmail("alice@example.com"))!;
      const result = await run(
        "credits",
        "add",
        "--email",
        "alice@example.com",
        "--usd",
        "12.345678901",
        "--note",
        "welcome",
      );
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout).toBe("Added $12.345678901 to alice@example.com. Balance: $12.345678901\n");
      expect(await balanceOf(user.id)).toBe(12_345_678_901n);

      const entries = await db().select().from(ledgerEntries).where(eq(ledgerEntries.userId, user.id));
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        kind: "adjustment",
        amountNano: 12_345_678_901n,
        balanceAfterNano: 12_345_678_901n,
        note: "welcome",
      });
      expect(harness.published).toContainEqual({ topic: "balance-changed", userId: user.id });
    });

    it("takes negative corrections (also without =) and prints the new balance in --json", async () => {
      const user = (await userByEmail("alice@example.com"))!;
      const result = await run("credits", "add", "--email", "alice@example.com", "--usd", "-0.000000001", "--json");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        userId: user.id,
        email: "alice@example.com",
        amountNano: "-1",
        amountUsd: "-0.000000001",
        balanceNano: "12345678900",
        balanceUsd: "12.3456789",
      });
      expect(await balanceOf(user.id)).toBe(12_345_678_900n);
      const entries = await db().select().from(ledgerEntries).where(eq(ledgerEntries.userId, user.id));
      expect(entries.map((entry) => entry.amountNano).sort()).toEqual([-1n, 12_345_678_901n]);
    });

    it("refuses amounts it cannot represent exactly, zero, and unknown users, changing nothing", async () => {
      const user = (await userByEmail("alice@example.com"))!;
      expect(
        expectOneLineError(await run("credits", "add", "--email", "alice@example.com", "--usd", "0.0000000001"), 2),
      ).toMatch(/^--usd: /);
      expect(
        expectOneLineError(await run("credits", "add", "--email", "alice@example.com", "--usd", "1e3"), 2),
      ).toMatch(/^--usd: /);
      expect(expectOneLineError(await run("credits", "add", "--email", "alice@example.com", "--usd", "0"), 2)).toBe(
        "--usd: the amount must not be zero",
      );
      expect(expectOneLineError(await run("credits", "add", "--email", "nobody@example.com", "--usd", "5"))).toBe(
        "No user with email nobody@example.com",
      );
      expect(await balanceOf(user.id)).toBe(12_345_678_900n);
      expect(await db().select().from(ledgerEntries).where(eq(ledgerEntries.userId, user.id))).toHaveLength(2);
    });
  });

  describe("billing reconcile", () => {
    it("passes when every balance equals its ledger, and names each account that does not", async () => {
      const clean = await run("billing", "reconcile", "--json");
      expect(clean).toMatchObject({ exitCode: 0, stderr: "" });
      const report = JSON.parse(clean.stdout) as { accounts: number; entries: number; mismatches: unknown[] };
      expect(report.accounts).toBeGreaterThan(0);
      expect(report.entries).toBeGreaterThan(0);
      expect(report.mismatches).toEqual([]);

      // A balance changed behind the ledger's back, by one nano-dollar.
      const [alice] = await db().select().from(users).where(eq(users.email, "alice@example.com"));
      const before = (await balanceOf(alice!.id))!;
      await db()
        .update(balances)
        .set({ balanceNano: before + 1n })
        .where(eq(balances.userId, alice!.id));
      try {
        expect(expectOneLineError(await run("billing", "reconcile"))).toMatch(
          /^1 of \d+ accounts differ from their ledger: alice@example\.com \(balance \$[\d.]+, ledger \$[\d.]+\)$/,
        );
      } finally {
        await db().update(balances).set({ balanceNano: before }).where(eq(balances.userId, alice!.id));
      }
      expect((await run("billing", "reconcile")).stdout).toMatch(
        /^All \d+ accounts match their ledger \(\d+ entries\)\.\n$/,
      );
    });

    it("names an account whose held amount disagrees with its open holds", async () => {
      // A hold released twice (or never recorded) would show up exactly like this.
      const [alice] = await db().select().from(users).where(eq(users.email, "alice@example.com"));
      await db().update(balances).set({ heldNano: 7n }).where(eq(balances.userId, alice!.id));
      try {
        expect(expectOneLineError(await run("billing", "reconcile"))).toMatch(
          /alice@example\.com \(balance \$[\d.]+, ledger \$[\d.]+, held \$0\.000000007 but open holds \$0\)$/,
        );
      } finally {
        await db().update(balances).set({ heldNano: 0n }).where(eq(balances.userId, alice!.id));
      }
    });
  });

  describe("keys", () => {
    let firstKey: string;

    it("key create prints the key alone on the last line and stores only its hash", async () => {
      const result = await run("key", "create", "--email", "alice@example.com", "--name", "laptop");
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      firstKey = lastLine(result.stdout);
      expect(firstKey).toMatch(API_KEY_PATTERN);

      const [row] = await db()
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.hash, hashApiKey(firstKey)));
      expect(row).toMatchObject({ name: "laptop", prefix: firstKey.slice(0, 14), revokedAt: null });
      expect(Object.values(row!).map(String)).not.toContain(firstKey);
      expect(result.stdout).toContain(row!.id);
    });

    it("key create --json gives exactly id, name, prefix, allowed models and key", async () => {
      const result = await run("key", "create", "--email", "alice@example.com", "--name", "ci", "--json");
      expect(result.exitCode).toBe(0);
      const body = JSON.parse(result.stdout) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual(["allowedModels", "id", "key", "name", "prefix"]);
      expect(body.allowedModels).toBeNull();
      expect(body.key).toMatch(API_KEY_PATTERN);
      expect(body.prefix).toBe(body.key!.slice(0, 14));
      const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, body.id!));
      expect(row?.hash).toBe(hashApiKey(body.key!));
    });

    it("key create --models limits the key to those models", async () => {
      const result = await run(
        "key",
        "create",
        "--email",
        "alice@example.com",
        "--name",
        "echo only",
        "--models",
        "tollgate/echo, openai/gpt-4.1,",
        "--json",
      );
      expect(result.exitCode).toBe(0);
      const body = JSON.parse(result.stdout) as { id: string; allowedModels: string[] };
      expect(body.allowedModels).toEqual(["tollgate/echo", "openai/gpt-4.1"]);
      const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, body.id));
      expect(row?.allowedModels).toEqual(["tollgate/echo", "openai/gpt-4.1"]);
      expect(
        expectOneLineError(
          await run("key", "create", "--email", "alice@example.com", "--name", "x", "--models", " , "),
          2,
        ),
      ).toBe("--models must name a model");
    });

    it("key list shows prefixes and dates, never keys", async () => {
      const text = await run("key", "list", "--email", "alice@example.com");
      expect(text.stderr).toBe("");
      expect(text.exitCode).toBe(0);
      expect(text.stdout).toMatch(/^ID\s+NAME\s+PREFIX\s+STATUS\s+LIMIT\s+SPENT\s+EXPIRES\s+CREATED\s+LAST USED\n/);
      expect(text.stdout).toContain(firstKey.slice(0, 14));
      expect(text.stdout).not.toContain(firstKey);

      const json = await run("key", "list", "--email", "alice@example.com", "--json");
      const listed = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(listed.map((key) => key.name).sort()).toEqual(["ci", "echo only", "laptop"]);
      expect(json.stdout).not.toContain(firstKey);
      expect(json.stdout).not.toContain(hashApiKey(firstKey));
    });

    it("key revoke by prefix sets revoked_at and tells gateways to drop the key", async () => {
      const result = await run("key", "revoke", firstKey.slice(0, 14));
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^Revoked key "laptop"/);
      const [row] = await db()
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.hash, hashApiKey(firstKey)));
      expect(row?.revokedAt).toBeInstanceOf(Date);
      expect(harness.published).toContainEqual({ topic: "api-key-revoked", hash: hashApiKey(firstKey) });

      expect(expectOneLineError(await run("key", "revoke", firstKey.slice(0, 14)))).toBe(
        `No active key matches ${firstKey.slice(0, 14)}`,
      );
    });

    it("key revoke by id, scoped by --email", async () => {
      const [live] = await db().select().from(apiKeys).where(eq(apiKeys.name, "ci"));
      expect(expectOneLineError(await run("key", "revoke", live!.id, "--email", "root@example.com"))).toBe(
        `No active key matches ${live!.id}`,
      );
      expect((await db().select().from(apiKeys).where(eq(apiKeys.id, live!.id)))[0]?.revokedAt).toBeNull();

      const result = await run("key", "revoke", live!.id, "--email", "alice@example.com", "--json");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ id: live!.id, name: "ci" });
      expect((await db().select().from(apiKeys).where(eq(apiKeys.id, live!.id)))[0]?.revokedAt).toBeInstanceOf(Date);
    });

    it("key create --limit-usd --limit-reset --expires stores the exact limit", async () => {
      const result = await run(
        "key",
        "create",
        "--email",
        "alice@example.com",
        "--name",
        "budget",
        "--limit-usd",
        "12.345678901",
        "--limit-reset",
        "weekly",
        "--expires",
        "2031-02-03T04:05:06Z",
      );
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout.split("\n")[0]).toMatch(
        /, spend limit \$12\.345678901 weekly, expires 2031-02-03T04:05:06Z\.$/,
      );
      const [row] = await db()
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.hash, hashApiKey(lastLine(result.stdout))));
      expect(row).toMatchObject({
        spendLimitNano: 12_345_678_901n,
        limitReset: "weekly",
        expiresAt: new Date("2031-02-03T04:05:06Z"),
      });

      const list = await run("key", "list", "--email", "alice@example.com");
      expect(list.stdout).toMatch(
        /budget\s+sk-gw-[0-9a-f]{8}\s+active\s+\$12\.345678901 weekly\s+\$0\s+2031-02-03T04:05:06Z/,
      );

      for (const [args, message] of [
        [["--limit-usd", "-1"], "--limit-usd: a spend limit cannot be negative"],
        [["--limit-usd", "1e3"], /^--limit-usd: expected a USD amount/],
        [["--limit-reset", "daily"], "--limit-reset needs --limit-usd"],
        [["--limit-usd", "1", "--limit-reset", "hourly"], "--limit-reset: expected daily, weekly, monthly"],
        [["--expires", "next tuesday"], /^--expires: expected an ISO date/],
        [["--expires", "2001-01-01"], "--expires must be in the future"],
      ] as const) {
        const failed = await run("key", "create", "--email", "alice@example.com", "--name", "bad", ...args);
        if (typeof message === "string") expect(expectOneLineError(failed, 2)).toBe(message);
        else expect(expectOneLineError(failed, 2)).toMatch(message);
      }
      expect(await db().select().from(apiKeys).where(eq(apiKeys.name, "bad"))).toEqual([]);
    });

    it("key limit sets, changes and removes a limit by prefix", async () => {
      const [budget] = await db().select().from(apiKeys).where(eq(apiKeys.name, "budget"));
      const set = await run("key", "limit", budget!.prefix, "--usd", "0.000000007", "--reset", "daily");
      expect(set).toMatchObject({ exitCode: 0, stderr: "" });
      expect(set.stdout).toBe(
        `Key "budget" (${budget!.prefix}): spend limit $0.000000007 daily, spent $0 this period, expires 2031-02-03T04:05:06Z\n`,
      );
      expect((await db().select().from(apiKeys).where(eq(apiKeys.id, budget!.id)))[0]).toMatchObject({
        spendLimitNano: 7n,
        limitReset: "daily",
      });

      const json = await run("key", "limit", budget!.id, "--usd", "3", "--expires", "none", "--json");
      expect(JSON.parse(json.stdout)).toMatchObject({
        id: budget!.id,
        spendLimitUsd: "3",
        limitReset: "daily",
        expiresAt: null,
        status: "active",
      });
      expect(harness.published).toContainEqual({ topic: "api-key-revoked", hash: budget!.hash });

      expect((await run("key", "limit", budget!.prefix, "--usd", "none")).stdout).toMatch(/: no spend limit, /);
      expect((await db().select().from(apiKeys).where(eq(apiKeys.id, budget!.id)))[0]).toMatchObject({
        spendLimitNano: null,
        limitReset: null,
      });
      expect(
        expectOneLineError(await run("key", "limit", budget!.prefix, "--usd", "none", "--reset", "weekly"), 2),
      ).toBe("--reset needs a limit, not --usd none");
      expect(expectOneLineError(await run("key", "limit", budget!.prefix), 2)).toMatch(/^--usd is required/);
    });

    it("key disable refuses a key until key enable, telling gateways both times", async () => {
      const [budget] = await db().select().from(apiKeys).where(eq(apiKeys.name, "budget"));
      const publishedBefore = harness.published.length;
      const disabled = await run("key", "disable", budget!.prefix, "--email", "alice@example.com");
      expect(disabled).toMatchObject({ exitCode: 0, stderr: "" });
      expect(disabled.stdout).toBe(`Disabled key "budget" (id ${budget!.id}, prefix ${budget!.prefix})\n`);
      expect((await db().select().from(apiKeys).where(eq(apiKeys.id, budget!.id)))[0]?.disabledAt).toBeInstanceOf(Date);
      expect((await run("key", "list", "--email", "alice@example.com")).stdout).toMatch(/budget\s+\S+\s+disabled/);

      const enabled = await run("key", "enable", budget!.id, "--json");
      expect(JSON.parse(enabled.stdout)).toMatchObject({ id: budget!.id, status: "active", disabledAt: null });
      // Each time by hash (authenticator caches) and by id (in-process admission's cache of the key's limit).
      expect(harness.published.slice(publishedBefore)).toEqual([
        { topic: "api-key-revoked", hash: budget!.hash },
        { topic: "api-key-changed", id: budget!.id },
        { topic: "api-key-revoked", hash: budget!.hash },
        { topic: "api-key-changed", id: budget!.id },
      ]);
      expect(expectOneLineError(await run("key", "disable", budget!.prefix, "--email", "root@example.com"))).toBe(
        `No active key matches ${budget!.prefix}`,
      );
    });

    it("key rate-limit sets a key's own rate limits, none going back to the default, telling gateways", async () => {
      const [budget] = await db().select().from(apiKeys).where(eq(apiKeys.name, "budget"));
      const publishedBefore = harness.published.length;
      const set = await run("key", "rate-limit", budget!.prefix, "--rpm", "60", "--concurrency", "2");
      expect(set).toMatchObject({ exitCode: 0, stderr: "" });
      expect(set.stdout).toBe(`Key "budget" (${budget!.prefix}): 60 requests/min, default tokens/min, 2 concurrent\n`);
      const [row] = await db().select().from(apiKeys).where(eq(apiKeys.id, budget!.id));
      expect(row).toMatchObject({ requestsPerMinute: 60, tokensPerMinute: null, concurrentRequests: 2 });
      expect(harness.published.slice(publishedBefore)).toContainEqual({ topic: "api-key-revoked", hash: budget!.hash });

      const reset = await run("key", "rate-limit", budget!.id, "--rpm", "none", "--json");
      expect(JSON.parse(reset.stdout)).toEqual({
        id: budget!.id,
        requestsPerMinute: null,
        tokensPerMinute: null,
        concurrentRequests: 2,
      });
      expect(expectOneLineError(await run("key", "rate-limit", budget!.id, "--rpm", "0"), 2)).toBe(
        "--rpm must be a whole number ≥ 1, or none",
      );
      expect(expectOneLineError(await run("key", "rate-limit", budget!.id), 2)).toBe(
        "give at least one of --rpm, --tpm, --concurrency",
      );
    });

    it("user rate-limit sets an account's limits across its keys, none removing one, telling gateways", async () => {
      const [budget] = await db().select().from(apiKeys).where(eq(apiKeys.name, "budget"));
      const owner = (await db().select().from(users).where(eq(users.id, budget!.userId)))[0]!;
      const publishedBefore = harness.published.length;
      const set = await run("user", "rate-limit", "--email", owner.email, "--rpm", "100", "--tpm", "50000");
      expect(set).toMatchObject({ exitCode: 0, stderr: "" });
      expect(set.stdout).toBe(
        `Account ${owner.email}: 100 requests/min, 50000 tokens/min, no limit concurrent (across its keys)\n`,
      );
      const [row] = await db().select().from(users).where(eq(users.id, owner.id));
      expect(row).toMatchObject({ requestsPerMinute: 100, tokensPerMinute: 50_000, concurrentRequests: null });
      // Every live key of the account leaves the gateways' caches, so the limits apply from the next request.
      expect(harness.published.slice(publishedBefore)).toContainEqual({ topic: "api-key-revoked", hash: budget!.hash });

      const lifted = await run("user", "rate-limit", "--email", owner.email, "--tpm", "none", "--json");
      expect(JSON.parse(lifted.stdout)).toMatchObject({
        requestsPerMinute: 100,
        tokensPerMinute: null,
        concurrentRequests: null,
      });
      expect(expectOneLineError(await run("user", "rate-limit", "--email", owner.email), 2)).toBe(
        "give at least one of --rpm, --tpm, --concurrency",
      );
      expect(expectOneLineError(await run("user", "rate-limit", "--email", "ghost@example.com", "--rpm", "5"))).toBe(
        "No user with email ghost@example.com",
      );
    });

    it("key list and create need a known user", async () => {
      expect(expectOneLineError(await run("key", "list", "--email", "ghost@example.com"))).toBe(
        "No user with email ghost@example.com",
      );
      expect(expectOneLineError(await run("key", "create", "--email", "ghost@example.com", "--name", "x"))).toBe(
        "No user with email ghost@example.com",
      );
      expect(expectOneLineError(await run("key", "revoke"), 2)).toMatch(/^missing ID_OR_PREFIX/);
    });
  });

  describe("credits adjust", () => {
    it("posts a noted adjustment, up or down, and insists on the note", async () => {
      const root = (await userByEmail("root@example.com"))!;
      expect(await balanceOf(root.id)).toBe(0n);
      // An adjustment may take a balance below zero: it corrects, it does not spend.
      const down = await run("credits", "adjust", "--email", "root@example.com", "--usd", "-0.5", "--note", "refund");
      expect(down).toMatchObject({ exitCode: 0, stderr: "" });
      expect(down.stdout).toBe("Adjusted root@example.com by -$0.5 (refund). Balance: -$0.5\n");
      const up = await run(
        "credits",
        "adjust",
        "--email",
        "root@example.com",
        "--usd",
        "2.000000001",
        "--note",
        "goodwill",
      );
      expect(up.exitCode).toBe(0);
      expect(await balanceOf(root.id)).toBe(1_500_000_001n);
      const entries = await db().select().from(ledgerEntries).where(eq(ledgerEntries.userId, root.id));
      expect(entries.map((entry) => [entry.kind, entry.amountNano, entry.note])).toEqual([
        ["adjustment", -500_000_000n, "refund"],
        ["adjustment", 2_000_000_001n, "goodwill"],
      ]);
      expect(harness.published).toContainEqual({ topic: "balance-changed", userId: root.id });

      expect(
        expectOneLineError(await run("credits", "adjust", "--email", "root@example.com", "--usd", "1"), 2),
      ).toMatch(/^--note is required/);
      expect(
        expectOneLineError(
          await run("credits", "adjust", "--email", "root@example.com", "--usd", "1", "--note", " "),
          2,
        ),
      ).toBe("--note must say why");
      expect(await db().select().from(ledgerEntries).where(eq(ledgerEntries.userId, root.id))).toHaveLength(2);
    });
  });

  describe("promo", () => {
    it("promo create stores an upper-case code with an exact amount; promo list shows it", async () => {
      const result = await run(
        "promo",
        "create",
        "--code",
        "spring-25",
        "--usd",
        "25.000000001",
        "--max-redemptions",
        "10",
        "--expires",
        "2031-04-01",
      );
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout).toBe(
        "Created promo code SPRING-25 worth $25.000000001, at most 10 redemptions, until 2031-04-01T00:00:00Z\n",
      );
      const [row] = await db().select().from(promoCodes).where(eq(promoCodes.code, "SPRING-25"));
      expect(row).toMatchObject({
        amountNano: 25_000_000_001n,
        maxRedemptions: 10,
        redemptionCount: 0,
        expiresAt: new Date("2031-04-01T00:00:00Z"),
      });

      const list = await run("promo", "list");
      expect(list.stdout).toMatch(/^CODE\s+AMOUNT\s+REDEEMED\s+EXPIRES\s+CREATED\n/);
      expect(list.stdout).toMatch(/SPRING-25\s+\$25\.000000001\s+0 of 10\s+2031-04-01T00:00:00Z/);
      expect(JSON.parse((await run("promo", "list", "--json")).stdout)).toMatchObject([
        { code: "SPRING-25", amountNano: "25000000001", amountUsd: "25.000000001", maxRedemptions: 10 },
      ]);
    });

    it("refuses bad codes, amounts and duplicates", async () => {
      expect(expectOneLineError(await run("promo", "create", "--code", "a b", "--usd", "1"), 2)).toMatch(/^--code: /);
      expect(expectOneLineError(await run("promo", "create", "--code", "FREE", "--usd", "0"), 2)).toBe(
        "--usd: the amount must be positive",
      );
      expect(
        expectOneLineError(await run("promo", "create", "--code", "FREE", "--usd", "1", "--max-redemptions", "1.5"), 2),
      ).toMatch(/^--max-redemptions: /);
      expect(expectOneLineError(await run("promo", "create", "--code", "Spring-25", "--usd", "1"))).toBe(
        "A promo code SPRING-25 already exists",
      );
      expect(await db().select().from(promoCodes)).toHaveLength(1);
    });
  });

  describe("catalog import", () => {
    it("imports models with exact nano prices and reports counts", async () => {
      const file = writeTestCatalog(harness.dataDir);
      const result = await run("catalog", "import", file, "--json");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ file, models: 3, endpoints: 0 });
      const [widget] = await db().select().from(models).where(eq(models.id, "acme/widget-1"));
      expect(widget).toMatchObject({ inputPriceNano: 1n, outputPriceNano: 123_456_789_012n, author: "acme" });
      expect(harness.published).toContainEqual({ topic: "catalog-changed" });
    });

    it("resolves a relative path against the invoking directory", async () => {
      const relative = path.relative(harness.context.invoker!.cwd, writeTestCatalog(harness.dataDir));
      const result = await run("catalog", "import", relative);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^Imported 3 models from \/.*catalog\.json; 0 channel endpoints/);
    });

    it("reports missing and malformed files in one line", async () => {
      expect(expectOneLineError(await run("catalog", "import", path.join(harness.dataDir, "missing.json")))).toMatch(
        /^no such file: /,
      );
      const broken = path.join(harness.dataDir, "broken.json");
      writeFileSync(broken, "{ not json");
      expect(expectOneLineError(await run("catalog", "import", broken))).toMatch(/is not valid JSON/);
      writeFileSync(broken, JSON.stringify({ version: 1, models: [{ id: "x" }] }));
      expect(expectOneLineError(await run("catalog", "import", broken))).toMatch(/^Invalid catalog file /);
    });

    it("exports the catalog file that imports back unchanged, exact prices included", async () => {
      writeTestCatalog(harness.dataDir);
      await run("catalog", "import", writeTestCatalog(harness.dataDir));
      const exported = await run("catalog", "export");
      expect(exported.exitCode).toBe(0);
      const file = catalogFileSchema.parse(JSON.parse(exported.stdout));
      expect(file.models.find((model) => model.id === "acme/widget-1")?.pricing).toMatchObject({
        input: "0.000000001",
        output: "123.456789012",
      });
      const again = path.join(harness.dataDir, "exported.json");
      writeFileSync(again, exported.stdout);
      const before = await db().select().from(models).orderBy(models.id);
      expect((await run("catalog", "import", again)).exitCode).toBe(0);
      const after = await db().select().from(models).orderBy(models.id);
      const comparable = (rows: typeof before) => rows.map(({ updatedAt: _updatedAt, ...row }) => row);
      expect(comparable(after)).toEqual(comparable(before));
    });
  });

  describe("channels", () => {
    const SECRET = "sk-upstream-secret-value-123";

    it("channel add stores the key encrypted, never prints it, and serves the provider's models", async () => {
      const result = await run(
        "channel",
        "add",
        "--kind",
        "openai",
        "--name",
        "openai-main",
        "--base-url",
        "https://api.openai.com/v1/",
        "--api-key",
        SECRET,
        "--priority",
        "-1",
        "--weight",
        "3",
      );
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(result.stdout).toBe(
        "Added channel openai-main (openai, provider openai, key stored encrypted); it serves 2 models\n",
      );

      const [row] = await db().select().from(channels).where(eq(channels.name, "openai-main"));
      expect(row).toMatchObject({
        kind: "openai",
        provider: "openai",
        baseUrl: "https://api.openai.com/v1",
        priority: -1,
        weight: 3,
      });
      expect(row!.encryptedSecret).not.toBeNull();
      expect(row!.encryptedSecret).not.toContain(SECRET);
      expect(harness.context.secretBox.decrypt(row!.encryptedSecret!)).toBe(SECRET);
      const endpoints = await db().select().from(modelEndpoints).where(eq(modelEndpoints.channelId, row!.id));
      expect(endpoints.map((endpoint) => [endpoint.modelId, endpoint.upstreamModel]).sort()).toEqual([
        ["openai/test-alpha", "test-alpha"],
        ["openai/test-beta", "test-beta"],
      ]);
      expect(endpoints.find((endpoint) => endpoint.modelId === "openai/test-alpha")?.inputPriceNano).toBe(150_000_000n);
    });

    it("reads the key from --api-key-env and maps explicit models to upstream names", async () => {
      const result = await run(
        "channel",
        "add",
        "--kind",
        "openai-compatible",
        "--name",
        "acme-proxy",
        "--provider",
        "ACME",
        "--base-url",
        "http://127.0.0.1:8080/v1",
        "--api-key-env",
        "UPSTREAM_KEY_FOR_TEST",
        "--models",
        "acme/widget-1=widget-1-2025, openai/test-alpha",
        "--json",
      );
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain("sk-from-environment-42");
      expect(JSON.parse(result.stdout)).toMatchObject({
        name: "acme-proxy",
        kind: "openai-compatible",
        provider: "acme",
        hasKey: true,
        endpointCount: 2,
      });
      const [row] = await db().select().from(channels).where(eq(channels.name, "acme-proxy"));
      expect(harness.context.secretBox.decrypt(row!.encryptedSecret!)).toBe("sk-from-environment-42");
      const endpoints = await db().select().from(modelEndpoints).where(eq(modelEndpoints.channelId, row!.id));
      expect(endpoints.map((endpoint) => [endpoint.modelId, endpoint.upstreamModel]).sort()).toEqual([
        ["acme/widget-1", "widget-1-2025"],
        ["openai/test-alpha", "test-alpha"],
      ]);
    });

    it("allows a keyless openai-compatible channel", async () => {
      const result = await run(
        "channel",
        "add",
        "--kind",
        "openai-compatible",
        "--name",
        "local-llm",
        "--base-url",
        "http://localhost:11434/v1",
        "--models",
        "acme/widget-1",
      );
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("no key");
      const [row] = await db().select().from(channels).where(eq(channels.name, "local-llm"));
      expect(row).toMatchObject({ provider: "local-llm", encryptedSecret: null });
    });

    it("refuses bad input without writing anything", async () => {
      const count = async () => (await db().select().from(channels)).length;
      const before = await count();
      const add = (...extra: string[]) => run("channel", "add", "--name", "bad", ...extra);
      expect(
        expectOneLineError(await add("--kind", "openai", "--base-url", "ftp://x.example/v1", "--api-key", "k"), 2),
      ).toBe("--base-url must be an http or https URL");
      expect(expectOneLineError(await add("--kind", "openai", "--base-url", "not a url", "--api-key", "k"), 2)).toMatch(
        /^--base-url is not a URL/,
      );
      expect(
        expectOneLineError(await add("--kind", "openai", "--base-url", "https://u:p@x.example", "--api-key", "k"), 2),
      ).toMatch(/credentials/);
      expect(expectOneLineError(await add("--kind", "openai", "--base-url", "https://x.example"), 2)).toBe(
        "--api-key or --api-key-env is required for openai channels",
      );
      expect(
        expectOneLineError(await add("--kind", "demo", "--base-url", "https://x.example", "--api-key", "k"), 2),
      ).toMatch(/^--kind must be one of/);
      expect(
        expectOneLineError(
          await add("--kind", "openai", "--base-url", "https://x.example", "--api-key-env", "UNSET_VARIABLE_XYZ"),
          2,
        ),
      ).toBe("--api-key-env: environment variable UNSET_VARIABLE_XYZ is not set");
      expect(
        expectOneLineError(
          await add("--kind", "openai", "--base-url", "https://x.example", "--api-key", "k", "--weight", "0"),
          2,
        ),
      ).toMatch(/^--weight must be an integer of at least 1/);
      expect(
        expectOneLineError(
          await add("--kind", "openai", "--base-url", "https://x.example", "--api-key", "k", "--models", "openai/nope"),
        ),
      ).toBe("Unknown model(s): openai/nope");
      expect(
        expectOneLineError(
          await run(
            "channel",
            "add",
            "--kind",
            "openai",
            "--name",
            "openai-main",
            "--base-url",
            "https://x.example",
            "--api-key",
            "k",
          ),
        ),
      ).toBe("a channel named openai-main already exists");
      expect(await count()).toBe(before);
    });

    it("channel list shows whether there is a key, never the key", async () => {
      const text = await run("channel", "list");
      expect(text.exitCode).toBe(0);
      expect(text.stdout.split("\n")[0]).toMatch(
        /^NAME\s+KIND\s+PROVIDER\s+BASE URL\s+ENABLED\s+PRIORITY\s+WEIGHT\s+ENDPOINTS\s+KEY\s+STATUS\s+TIMEOUTS \(MS\)\s+LAST TEST$/,
      );
      expect(text.stdout).toMatch(
        /openai-main\s+openai\s+openai\s+https:\/\/api\.openai\.com\/v1\s+yes\s+-1\s+3\s+2\s+yes\s+ok/,
      );
      expect(text.stdout).toMatch(
        /local-llm\s+openai-compatible\s+local-llm\s+http:\/\/localhost:11434\/v1\s+yes\s+0\s+1\s+1\s+no/,
      );

      const json = await run("channel", "list", "--json");
      const listed = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(listed.map((channel) => channel.name)).toEqual(["acme-proxy", "local-llm", "openai-main"]);
      expect(listed.find((channel) => channel.name === "openai-main")).toMatchObject({
        hasKey: true,
        endpointCount: 2,
        priority: -1,
        weight: 3,
      });
      for (const output of [text.stdout, json.stdout]) {
        expect(output).not.toContain(SECRET);
        expect(output).not.toContain("sk-from-environment-42");
        expect(output).not.toContain("v1.");
      }
    });

    it("catalog import re-prices existing channels' endpoints", async () => {
      const result = await run("catalog", "import", writeTestCatalog(harness.dataDir), "--json");
      // openai-main serves both OpenAI models; the other two channels serve what their provider's catalog has.
      expect(JSON.parse(result.stdout)).toMatchObject({ models: 3 });
      expect((JSON.parse(result.stdout) as { endpoints: number }).endpoints).toBeGreaterThanOrEqual(2);
    });
  });

  describe("migrate, help and usage", () => {
    it("migrate is idempotent", async () => {
      const result = await run("migrate", "--json");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ applied: true, by: "cli", database: kind });
    });

    it("prints help on stdout and usage errors as one line with exit 2", async () => {
      const help = await run("--help");
      expect(help.exitCode).toBe(0);
      expect(help.stdout).toMatch(/^Usage: tollgate <command>/);
      expect((await run("channel", "add", "-h")).stdout).toMatch(
        /^Usage: tollgate channel add --kind KIND --name NAME --base-url URL/,
      );
      expect(JSON.parse((await run("key", "--help", "--json")).stdout)).toMatchObject({
        usage: expect.stringContaining("key create") as unknown,
      });

      expect(expectOneLineError(await run(), 2)).toMatch(/^missing command/);
      expect(expectOneLineError(await run("frobnicate"), 2)).toMatch(/^unknown command "frobnicate"/);
      expect(expectOneLineError(await run("key"), 2)).toMatch(/^"key" needs a subcommand: create, revoke, list/);
      expect(
        expectOneLineError(
          await run("user", "create", "--email", "x@example.com", "--password", "long-enough", "--bogus"),
          2,
        ),
      ).toMatch(/--bogus/);
    });
  });
});
