import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "~/cli/run-cli";
import { auditLog } from "~/server/db/schema";
import { hashApiKey } from "~/server/gateway/keys/api-key-format";
import { createApiKey, revokeApiKey } from "~/server/services/api-keys";
import { createUser } from "~/server/services/users";
import { createCliTestContext, type CliTestContext } from "../cli/cli-harness";
import { createSessionUser, startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * The audit log: every admin mutation, through tRPC (the console) or the CLI, writes exactly one row in the
 * transaction of its change, naming who, what, before and after, and never a secret; a change that fails writes none;
 * the table refuses to be rewritten.
 */

describe("the audit log of admin actions", () => {
  let app: ApiTestApp;
  let admin: SessionUser;
  let member: SessionUser;

  beforeAll(async () => {
    app = await startApiTestApp();
    admin = await createSessionUser(app, "auditor@example.com", "admin");
    member = await createSessionUser(app, "audited@example.com");
  });

  afterAll(async () => {
    await app.close();
  });

  async function rowCount(): Promise<number> {
    const [row] = await app.container.db.select({ rows: count() }).from(auditLog);
    return row!.rows;
  }

  /** Runs one admin mutation and returns the audit rows it wrote. */
  async function rowsWrittenBy(mutation: () => Promise<unknown>) {
    const before = await app.container.db.select({ id: auditLog.id }).from(auditLog);
    const seen = new Set(before.map((row) => row.id));
    await mutation();
    const after = await app.container.db.select().from(auditLog).orderBy(auditLog.id);
    return after.filter((row) => !seen.has(row.id));
  }

  it("records each console mutation once: who, what, before and after", async () => {
    const caller = app.callerFor(admin);
    const requestId = crypto.randomUUID();

    const [grant] = await rowsWrittenBy(() =>
      caller.admin.credits.add({ email: member.email, usd: "5", note: "welcome", requestId }),
    );
    expect(grant).toMatchObject({
      actorId: admin.id,
      actor: "auditor@example.com",
      via: "console",
      action: "credits.grant",
      targetType: "user",
      targetId: member.id,
      targetLabel: "audited@example.com",
      before: { balanceUsd: "0" },
      after: { balanceUsd: "5", amountUsd: "5" },
      note: "welcome",
    });
    // A double-submitted form posts once and is recorded once.
    expect(
      await rowsWrittenBy(() =>
        caller.admin.credits.add({ email: member.email, usd: "5", note: "welcome", requestId }),
      ),
    ).toHaveLength(0);

    const adjusted = await rowsWrittenBy(() =>
      caller.admin.credits.adjust({ userId: member.id, amountUsd: "-1.5", note: "refund clawback" }),
    );
    expect(adjusted).toMatchObject([
      { action: "credits.adjust", before: { balanceUsd: "5" }, after: { balanceUsd: "3.5" }, note: "refund clawback" },
    ]);

    const limits = await rowsWrittenBy(() =>
      caller.admin.users.setRateLimits({ email: member.email, requestsPerMinute: 30 }),
    );
    expect(limits).toMatchObject([
      {
        action: "account.rate-limits",
        targetId: member.id,
        before: { requestsPerMinute: null },
        after: { requestsPerMinute: 30 },
      },
    ]);

    const promo = await rowsWrittenBy(() => caller.admin.promoCodes.create({ code: "AUDIT10", amountUsd: "10" }));
    expect(promo).toMatchObject([
      { action: "promo-code.create", targetType: "promo-code", targetLabel: "AUDIT10", after: { amountUsd: "10" } },
    ]);
  });

  it("records channel changes without ever writing the upstream key", async () => {
    const caller = app.callerFor(admin);
    let channelId = "";
    const created = await rowsWrittenBy(async () => {
      channelId = (
        await caller.admin.channels.create({
          kind: "openai",
          name: "audited-openai",
          baseUrl: "http://127.0.0.1:9/v1",
          apiKey: "sk-very-secret-upstream-key",
          models: [{ modelId: "openai/gpt-4.1-nano" }],
        })
      ).id;
    });
    expect(created).toMatchObject([
      {
        action: "channel.create",
        targetId: channelId,
        targetLabel: "audited-openai",
        after: { name: "audited-openai", kind: "openai", upstreamKey: "set", endpointCount: 1 },
      },
    ]);

    const updated = await rowsWrittenBy(() =>
      caller.admin.channels.update({ id: channelId, patch: { apiKey: "sk-another-secret-key", priority: 5 } }),
    );
    expect(updated).toMatchObject([
      {
        action: "channel.update",
        before: { upstreamKey: "set", priority: 0 },
        after: { upstreamKey: "replaced", priority: 5 },
      },
    ]);

    const disabled = await rowsWrittenBy(() => caller.admin.channels.setEnabled({ id: channelId, enabled: false }));
    expect(disabled).toMatchObject([
      { action: "channel.disable", before: { enabled: true }, after: { enabled: false } },
    ]);

    // A test is an action too: its result is recorded with it (nothing listens on port 9).
    const tested = await rowsWrittenBy(() => caller.admin.channels.test({ id: channelId }));
    expect(tested).toMatchObject([
      {
        action: "channel.test",
        targetId: channelId,
        after: { ok: false, status: null, upstreamModel: "gpt-4.1-nano" },
      },
    ]);

    const everything = JSON.stringify(await app.container.db.select().from(auditLog));
    expect(everything).not.toContain("sk-very-secret-upstream-key");
    expect(everything).not.toContain("sk-another-secret-key");
    expect(everything).not.toContain("encrypted");
  });

  it("writes nothing for a change that fails, inside its transaction or before it", async () => {
    const caller = app.callerFor(admin);
    const rows = await rowCount();
    // The channel row is inserted, then its unknown model fails the transaction: neither the channel nor a record stays.
    await expect(
      caller.admin.channels.create({
        kind: "openai",
        name: "never-made",
        baseUrl: "http://127.0.0.1:9/v1",
        apiKey: "sk-x",
        models: [{ modelId: "nobody/no-such-model" }],
      }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.admin.promoCodes.create({ code: "AUDIT10", amountUsd: "10" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await expect(
      caller.admin.credits.adjust({ email: "nobody@example.com", amountUsd: "1", note: "lost" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(
      app.callerFor(member).admin.promoCodes.create({ code: "MINE", amountUsd: "10" }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await rowCount()).toBe(rows);
    expect((await caller.admin.channels.list()).map((channel) => channel.name)).not.toContain("never-made");
  });

  it("is append-only: rows cannot be changed or removed, even by the app's own connection", async () => {
    const { db } = app.container;
    expect(await rowCount()).toBeGreaterThan(0);
    await expect(db.execute(sql`update audit_log set note = 'rewritten'`)).rejects.toThrow();
    await expect(db.execute(sql`delete from audit_log`)).rejects.toThrow();
    await expect(db.execute(sql`truncate audit_log`)).rejects.toThrow();
    const notes = await db.select({ note: auditLog.note }).from(auditLog);
    expect(notes.map((row) => row.note)).not.toContain("rewritten");
  });

  it("lists newest first for admins only, filtered by subject, actor and target", async () => {
    const caller = app.callerFor(admin);
    const channelRows = await caller.admin.audit.list({ action: "channel" });
    expect(channelRows.items.map((row) => [row.action, row.via])).toEqual([
      ["channel.test", "console"],
      ["channel.disable", "console"],
      ["channel.update", "console"],
      ["channel.create", "console"],
      // The built-in demo channel, made by the server at its first start.
      ["channel.create", "system"],
    ]);
    const grants = await caller.admin.audit.list({ action: "credits.grant", actor: "auditor@" });
    expect(grants.items).toHaveLength(1);
    const forMember = await caller.admin.audit.list({ targetType: "user", targetId: member.id, limit: 2 });
    expect(forMember.items.map((row) => row.action)).toEqual(["account.rate-limits", "credits.adjust"]);
    const next = await caller.admin.audit.list({
      targetType: "user",
      targetId: member.id,
      cursor: forMember.nextCursor,
    });
    expect(next.items.map((row) => row.action)).toEqual(["credits.grant"]);
    expect(next.nextCursor).toBeNull();
    await expect(app.callerFor(member).admin.audit.list({})).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("the audit log of CLI commands", () => {
  let cli: CliTestContext;

  beforeAll(async () => {
    cli = await createCliTestContext(process.env.TEST_DATABASE_URL === undefined ? "pglite" : "postgres");
  });

  afterAll(async () => {
    await cli?.close();
  });

  it("records an admin's key commands for a customer, never the key, and not the customer's own changes", async () => {
    const { db } = cli.context;
    const customer = await createUser(db, { email: "cli-keys@example.com", password: "pw-123456" });
    const created = await runCli(["key", "create", "--email", customer.email, "--name", "ci", "--json"], cli.context);
    expect(created.exitCode).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; prefix: string; key: string };
    const plaintext = key.key;
    for (const command of [["disable"], ["enable"], ["limit", "--usd", "5"], ["revoke"]]) {
      const [verb, ...options] = command;
      const result = await runCli(["key", verb!, key.prefix, ...options, "--email", customer.email], cli.context);
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const rows = await db.select().from(auditLog).where(eq(auditLog.targetId, key.id)).orderBy(auditLog.id);
    expect(rows.map((row) => [row.action, row.via])).toEqual([
      ["key.create", "cli"],
      ["key.disable", "cli"],
      ["key.enable", "cli"],
      ["key.limits", "cli"],
      ["key.revoke", "cli"],
    ]);
    expect(rows[0]).toMatchObject({ targetLabel: `ci (${key.prefix}…)`, after: { name: "ci", disabled: false } });
    expect(rows[3]).toMatchObject({ before: { spendLimitUsd: null }, after: { spendLimitUsd: "5" } });
    expect(JSON.stringify(rows)).not.toContain(plaintext);
    expect(JSON.stringify(rows)).not.toContain(hashApiKey(plaintext));

    // The customer's own key, made and revoked through the dashboard's procedures: theirs, not an admin action.
    const before = (await db.select().from(auditLog)).length;
    const { key: own } = await createApiKey(db, { userId: customer.id, name: "own" });
    await revokeApiKey(db, cli.context.changes, { idOrPrefix: own.id, userId: customer.id });
    expect(await db.select().from(auditLog)).toHaveLength(before);
  });

  it("records an account made from the CLI with its role, never its password", async () => {
    const { db } = cli.context;
    const result = await runCli(
      ["user", "create", "--email", "second-admin@example.com", "--password", "a-secret-password", "--admin", "--json"],
      cli.context,
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const { id } = JSON.parse(result.stdout) as { id: string };
    const rows = await db.select().from(auditLog).where(eq(auditLog.targetId, id));
    expect(rows).toEqual([
      expect.objectContaining({
        action: "user.create",
        via: "cli",
        targetLabel: "second-admin@example.com",
        after: { email: "second-admin@example.com", role: "admin", name: null },
      }),
    ]);
    expect(JSON.stringify(rows)).not.toContain("a-secret-password");
    // A customer signing up is not an admin action.
    const before = (await db.select().from(auditLog)).length;
    await createUser(db, { email: "self-service@example.com", password: "pw-1234567" });
    expect(await db.select().from(auditLog)).toHaveLength(before);
  });

  it("names the shell's user and host for a command's change", async () => {
    const { db } = cli.context;
    await createUser(db, { email: "cli-audited@example.com", password: "pw-123456" });
    const result = await runCli(
      ["credits", "adjust", "--email", "cli-audited@example.com", "--usd", "2", "--note", "support ticket 7"],
      cli.context,
    );
    expect(result.exitCode).toBe(0);
    const rows = await db.select().from(auditLog).where(eq(auditLog.action, "credits.adjust"));
    expect(rows).toMatchObject([
      {
        actorId: null,
        actor: "cli:tester@test-host",
        via: "cli",
        action: "credits.adjust",
        targetLabel: "cli-audited@example.com",
        after: { amountUsd: "2" },
        note: "support ticket 7",
      },
    ]);
  });
});
