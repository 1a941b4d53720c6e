import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import type { CliResult } from "~/cli/command";
import type { CliContext } from "~/cli/context";
import { readEnv } from "~/env";
import { createChangeBus, type Change } from "~/server/changes";
import { createSecretBox } from "~/server/crypto/secret-box";
import { silentLogger } from "~/server/gateway/logger";
import { REPO_ROOT, spawnCli } from "../../helpers/gateway-process";
import { createTestDatabase, type TestDatabase } from "../../helpers/test-database";

export { REPO_ROOT };
/** Fixed secrets for the CLI under test: nothing is generated into a data directory. */
export const CLI_ENCRYPTION_KEY = "3".repeat(64);
export const CLI_AUTH_SECRET = "cli-test-auth-secret-".padEnd(48, "x");
/** Generous ceilings for hooks and child processes only; no test asserts on time. */
export const SLOW = 300_000;

export interface CliTestContext {
  context: CliContext;
  database: TestDatabase;
  /** Every change the commands published, in order. */
  published: Change[];
  dataDir: string;
  close(): Promise<void>;
}

/** A CliContext on a fresh test database, as the CLI process would build it, with published changes recorded. */
export async function createCliTestContext(
  kind: "pglite" | "postgres",
  variables: Record<string, string> = {},
): Promise<CliTestContext> {
  const database = await createTestDatabase({ kind });
  const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-cli-"));
  const changes = await createChangeBus(database.handle, silentLogger, { listen: false });
  const published: Change[] = [];
  changes.subscribe((change) => {
    published.push(change);
  });
  const env = readEnv({
    NODE_ENV: "test",
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: CLI_ENCRYPTION_KEY,
    AUTH_SECRET: CLI_AUTH_SECRET,
  });
  const context: CliContext = {
    db: database.handle.db,
    database: database.handle,
    changes,
    secretBox: createSecretBox(Buffer.from(CLI_ENCRYPTION_KEY, "hex")),
    env,
    origin: "cli",
    actor: { userId: null, label: "cli:tester@test-host", via: "cli" },
    invoker: { cwd: REPO_ROOT, variables },
  };
  return {
    context,
    database,
    published,
    dataDir,
    async close() {
      await changes.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The environment a CLI process gets here: the CLI's test secrets, no database URL, and `env`. */
export function cliProcessEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: "test",
    ENCRYPTION_KEY: CLI_ENCRYPTION_KEY,
    AUTH_SECRET: CLI_AUTH_SECRET,
    // Set (empty) so that a developer's .env cannot point the CLI at another database.
    DATABASE_URL: "",
    ...env,
  };
}

/** Runs the real CLI as a process (helpers/gateway-process.ts). */
export function runCliProcess(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return spawnCli(args, cliProcessEnv(env));
}

/** The last line of stdout, as `tail -n1` sees it. */
export function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

/** A failure is exactly one `error: …` line on stderr, with nothing on stdout and no stack trace; returns the message. */
export function expectOneLineError(result: CliResult, exitCode = 1): string {
  expect(result.exitCode).toBe(exitCode);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/^error: [^\n]+\n$/);
  return result.stderr.slice("error: ".length, -1);
}
