import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "~/server/db";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { findUserByEmail } from "~/server/services/users";
import { expectLedgerConsistent, generationsOf, balanceOf } from "../helpers/ledger-assertions";
import { runCli, startGatewayProcess } from "../helpers/gateway-process";
import { availableDatabaseKinds, createTestDatabase, type TestDatabase } from "../helpers/test-database";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function databaseFor(kind: "pglite" | "postgres"): Promise<{
  variables: Record<string, string>;
  open: () => ReturnType<typeof openDatabase>;
  database?: TestDatabase;
}> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-main-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  if (kind === "pglite") {
    const pgliteDir = path.join(dataDir, "pglite");
    return {
      variables: { DATA_DIR: dataDir, PGLITE_DIR: pgliteDir },
      open: () => openDatabase({ kind: "pglite", dataDir: pgliteDir }),
    };
  }
  const database = await createTestDatabase({ kind: "postgres" });
  cleanups.push(() => database.drop());
  const url = database.url ?? "";
  return {
    variables: { DATA_DIR: dataDir, DATABASE_URL: url },
    open: () => openDatabase({ kind: "postgres", url }),
    database,
  };
}

describe.each(availableDatabaseKinds())("the production entry as a process, on %s", (kind) => {
  it("serves /v1, takes operator commands while running, and writes every usage row before it exits on SIGTERM", async () => {
    const { variables, open } = await databaseFor(kind);
    // On PGlite the process creates its database, as the first `npm start` on a new machine does.
    const gateway = await startGatewayProcess(variables, { createsDatabase: true });
    cleanups.push(() => void gateway.child.kill("SIGKILL"));

    const email = "process-user@example.com";
    expect((await runCli(["user", "create", "--email", email, "--password", "password-123"], variables)).code).toBe(0);
    expect((await runCli(["credits", "add", "--email", email, "--usd", "1.25"], variables)).code).toBe(0);
    const created = await runCli(["key", "create", "--email", email, "--name", "process"], variables);
    expect(created.code).toBe(0);
    const apiKey = created.stdout.trim().split("\n").at(-1) ?? "";
    expect(apiKey).toMatch(/^sk-gw-[0-9a-f]{32}$/);

    const openai = new OpenAI({ baseURL: gateway.baseUrl, apiKey, maxRetries: 0 });
    let costUsd = 0;
    const ids: string[] = [];
    for (const content of ["one", "two"]) {
      const completion = await openai.chat.completions.create({
        model: "tollgate/echo",
        messages: [{ role: "user", content }],
      });
      ids.push(completion.id);
      costUsd += (completion.usage as unknown as { cost: number }).cost;
    }
    const stream = await openai.chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "three" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      // The finish chunk repeats the usage; count the final usage-only chunk once.
      if (chunk.usage && chunk.choices.length === 0) {
        costUsd += (chunk.usage as unknown as { cost: number }).cost;
        ids.push(chunk.id);
      }
    }

    // A key revoked by the CLI is refused (through the control socket on PGlite, NOTIFY on PostgreSQL).
    const revoked = await runCli(["key", "revoke", apiKey.slice(0, 14)], variables);
    expect(revoked.code).toBe(0);
    await expect
      .poll(
        async () =>
          openai.models.list().then(
            () => "accepted",
            (error: unknown) => (error instanceof OpenAI.AuthenticationError ? "refused" : String(error)),
          ),
        { timeout: 10_000 },
      )
      .toBe("refused");

    // Usage is written in batches; SIGTERM must flush what is pending before the process exits.
    expect(await gateway.stop("SIGTERM")).toBe(0);

    const handle = open();
    try {
      const user = await findUserByEmail(handle.db, email);
      expect(user).not.toBeNull();
      const rows = await generationsOf(handle.db, user!.id);
      expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
      const spentNano = rows.reduce((sum, row) => sum + row.costNano, 0n);
      expect(Number(spentNano) / 1e9).toBeCloseTo(costUsd, 12);
      expect(await balanceOf(handle.db, user!.id)).toBe(parseUsdToNano("1.25") - spentNano);
      await expectLedgerConsistent(handle.db, user!.id);
    } finally {
      await handle.close();
    }
  }, 300_000); // a ceiling for slow machines (several child processes); nothing asserts on time
});
