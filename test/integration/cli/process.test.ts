import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { createChangeBus, type Change, type ChangeBus } from "~/server/changes";
import { createSecretBox } from "~/server/crypto/secret-box";
import { openDatabase, type DatabaseHandle } from "~/server/db";
import { apiKeys, balances, channels, ledgerEntries, users } from "~/server/db/schema";
import { API_KEY_PATTERN, hashApiKey } from "~/server/gateway/keys/api-key-format";
import { silentLogger } from "~/server/gateway/logger";
import { outputOf } from "../../helpers/gateway-process";
import { availableDatabaseKinds, createTestDatabase, type TestDatabase } from "../../helpers/test-database";
import {
  cliProcessEnv,
  CLI_ENCRYPTION_KEY,
  expectOneLineError,
  lastLine,
  REPO_ROOT,
  runCliProcess,
  SLOW,
} from "./cli-harness";

/**
 * The real entry in a child process, once per database kind: exit codes, one-line errors, --json and the key on the
 * last line, as scripts see them. PGlite runs from a data directory (no server listens on its control socket);
 * PostgreSQL from DATABASE_URL, with a listening ChangeBus standing in for a running gateway.
 */
describe.each(availableDatabaseKinds())("the tollgate process on %s", (kind) => {
  let dataDir: string;
  let processEnv: Record<string, string>;
  let postgresDatabase: TestDatabase | undefined;
  let gatewayBus: ChangeBus | undefined;
  const heard: Change[] = [];
  const waiters: { matches: (change: Change) => boolean; resolve: () => void }[] = [];
  let plaintextKey: string;

  /** Resolves when a running gateway would have heard the change (already, or when it arrives). */
  const heardChange = (matches: (change: Change) => boolean) =>
    new Promise<void>((resolve) => {
      if (heard.some(matches)) resolve();
      else waiters.push({ matches, resolve });
    });

  /** Runs assertions against the database the child processes wrote to. */
  async function inspect<T>(work: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
    if (postgresDatabase !== undefined) return work(postgresDatabase.handle);
    // PGlite admits one process per directory: the CLI processes have exited, so the test may open it.
    const handle = openDatabase({ kind: "pglite", dataDir: path.join(dataDir, "pglite") });
    try {
      return await work(handle);
    } finally {
      await handle.close();
    }
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-cli-process-"));
    processEnv = { DATA_DIR: dataDir, PROCESS_TEST_UPSTREAM_KEY: "sk-upstream-from-env-777" };
    if (kind === "postgres") {
      postgresDatabase = await createTestDatabase({ kind: "postgres" });
      processEnv.DATABASE_URL = postgresDatabase.url!;
      gatewayBus = await createChangeBus(postgresDatabase.handle, silentLogger, { listen: true });
      gatewayBus.subscribe((change) => {
        heard.push(change);
        for (const waiter of waiters.filter((candidate) => candidate.matches(change))) waiter.resolve();
      });
    } else {
      processEnv.PGLITE_DIR = path.join(dataDir, "pglite");
    }
  }, SLOW);

  afterAll(async () => {
    await gatewayBus?.close();
    await postgresDatabase?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }, SLOW);

  it(
    "user create --json exits 0 with the user as JSON",
    async () => {
      const result = await runCliProcess(
        ["user", "create", "--email", "Proc@Example.com", "--password", "process-pass", "--json"],
        processEnv,
      );
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ email: "proc@example.com", role: "user" });
    },
    SLOW,
  );

  it(
    "`npm run tollgate` runs the same CLI from its TypeScript sources",
    async () => {
      // The other tests run the CLI's bundle, which starts faster; this is the command operators type.
      const npm = spawn(
        "npm",
        ["run", "--silent", "tollgate", "--", "key", "list", "--email", "proc@example.com", "--json"],
        {
          cwd: REPO_ROOT,
          env: cliProcessEnv(processEnv),
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const result = await outputOf(npm);
      expect(result.exitCode).toBe(0);
      // The user the bundle created, found (an unknown email is an error), with no keys yet.
      expect(JSON.parse(result.stdout)).toEqual([]);
    },
    SLOW,
  );

  it(
    "a failure is exit 1 with one error line and no stack trace",
    async () => {
      const result = await runCliProcess(
        ["user", "create", "--email", "proc@example.com", "--password", "process-pass"],
        processEnv,
      );
      expect(expectOneLineError(result)).toBe("A user with email proc@example.com already exists");
    },
    SLOW,
  );

  it(
    "a malformed command line is exit 2 with one error line, before any database is opened",
    async () => {
      const result = await runCliProcess(["credits", "add", "--email", "proc@example.com"], {
        ...processEnv,
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      });
      expect(expectOneLineError(result, 2)).toMatch(/^--usd is required/);
    },
    SLOW,
  );

  it(
    "an invalid environment is one error line, exit 1",
    async () => {
      const result = await runCliProcess(["key", "list", "--email", "proc@example.com"], {
        ...processEnv,
        PORT: "not-a-port",
      });
      expect(expectOneLineError(result)).toMatch(/^Invalid environment: PORT/);
    },
    SLOW,
  );

  it(
    "credits add prints the new balance",
    async () => {
      const result = await runCliProcess(
        ["credits", "add", "--email", "proc@example.com", "--usd", "2.5", "--note", "process test"],
        processEnv,
      );
      expect(result).toEqual({ exitCode: 0, stdout: "Added $2.5 to proc@example.com. Balance: $2.5\n", stderr: "" });
    },
    SLOW,
  );

  it(
    "key create puts the key alone on the last line",
    async () => {
      const result = await runCliProcess(
        ["key", "create", "--email", "proc@example.com", "--name", "from-process"],
        processEnv,
      );
      expect(result.exitCode).toBe(0);
      plaintextKey = lastLine(result.stdout);
      expect(plaintextKey).toMatch(API_KEY_PATTERN);
    },
    SLOW,
  );

  it(
    "key create --json prints only JSON",
    async () => {
      const result = await runCliProcess(
        ["--json", "key", "create", "--email", "proc@example.com", "--name", "json"],
        processEnv,
      );
      expect(result.exitCode).toBe(0);
      const body = JSON.parse(result.stdout) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual(["allowedModels", "id", "key", "name", "prefix"]);
      expect(body.key).toMatch(API_KEY_PATTERN);
    },
    SLOW,
  );

  it(
    "channel add reads --api-key-env from the CLI's environment and never prints it",
    async () => {
      const result = await runCliProcess(
        [
          "channel",
          "add",
          "--kind",
          "openai",
          "--name",
          "proc-openai",
          "--base-url",
          "https://api.openai.com/v1",
          "--api-key-env",
          "PROCESS_TEST_UPSTREAM_KEY",
        ],
        processEnv,
      );
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("Added channel proc-openai");
      expect(result.stdout + result.stderr).not.toContain("sk-upstream-from-env-777");
    },
    SLOW,
  );

  it(
    "key revoke revokes, and a gateway listening on the database hears it",
    async () => {
      const result = await runCliProcess(["key", "revoke", plaintextKey.slice(0, 14)], processEnv);
      expect(result.exitCode).toBe(0);
      if (kind === "postgres") {
        const hash = hashApiKey(plaintextKey);
        await heardChange((change) => change.topic === "api-key-revoked" && change.hash === hash);
        await heardChange((change) => change.topic === "balance-changed");
        await heardChange((change) => change.topic === "catalog-changed");
      }
    },
    SLOW,
  );

  it(
    "left the expected rows behind",
    async () => {
      if (kind === "pglite") {
        // No server was listening, so the CLI used the directory itself and did not leave a socket behind.
        expect(existsSync(path.join(dataDir, "control.sock"))).toBe(false);
      }
      await inspect(async ({ db }) => {
        const [user] = await db.select().from(users).where(eq(users.email, "proc@example.com"));
        expect(user).toBeDefined();
        expect((await db.select().from(balances).where(eq(balances.userId, user!.id)))[0]?.balanceNano).toBe(
          2_500_000_000n,
        );
        const entries = await db.select().from(ledgerEntries).where(eq(ledgerEntries.userId, user!.id));
        expect(entries).toMatchObject([{ amountNano: 2_500_000_000n, note: "process test" }]);

        const [key] = await db
          .select()
          .from(apiKeys)
          .where(eq(apiKeys.hash, hashApiKey(plaintextKey)));
        expect(key).toMatchObject({ name: "from-process", userId: user!.id });
        expect(key!.revokedAt).toBeInstanceOf(Date);
        expect(await db.select().from(apiKeys).where(eq(apiKeys.userId, user!.id))).toHaveLength(2);

        const [channel] = await db.select().from(channels).where(eq(channels.name, "proc-openai"));
        expect(channel!.encryptedSecret).not.toContain("sk-upstream-from-env-777");
        expect(createSecretBox(Buffer.from(CLI_ENCRYPTION_KEY, "hex")).decrypt(channel!.encryptedSecret!)).toBe(
          "sk-upstream-from-env-777",
        );
      });
    },
    SLOW,
  );
});
