import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readEnv, type Env } from "~/env";
import { createContainer, type Container } from "~/server/container";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import type { Clock } from "~/server/gateway/clock";
import { startServer, type RunningServer } from "~/server/http/start-server";
import { createApiKey } from "~/server/services/api-keys";
import { addCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { createTestDatabase } from "./test-database";

/** Fixed secrets so tests never write generated ones anywhere but their own temp dir. */
export const TEST_SECRETS = { AUTH_SECRET: "test-auth-secret-".padEnd(48, "x"), ENCRYPTION_KEY: "7".repeat(64) };

export function testEnv(overrides: Record<string, string> = {}): { env: Env; dataDir: string } {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-test-"));
  const env = readEnv({
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATA_DIR: dataDir,
    ADMIN_EMAIL: "admin@example.com",
    ADMIN_PASSWORD: "admin-password-123",
    ...TEST_SECRETS,
    ...overrides,
  });
  return { env, dataDir };
}

export interface GatewayHarness {
  container: Container;
  server: RunningServer;
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  /** A new user with `usd` of credit and a fresh key. */
  createFundedUser(usd: string): Promise<{ userId: string; apiKey: string; apiKeyId: string }>;
  stop(): Promise<void>;
}

/**
 * The production HTTP entry (node:http server, /v1 adapter, container) on a fresh test database: PostgreSQL when
 * TEST_DATABASE_URL is set, in-memory PGlite otherwise.
 */
export async function startGatewayHarness(
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    databaseKind?: "pglite" | "postgres";
    /** Where the container's JSON log lines go (the test's own capture), at the LOG_LEVEL the env sets. */
    logWrite?: (chunk: string) => void;
  } = {},
): Promise<GatewayHarness> {
  const database = await createTestDatabase(options.databaseKind === undefined ? {} : { kind: options.databaseKind });
  const { env, dataDir } = testEnv(options.env);
  const container = await createContainer({
    env,
    database: database.handle,
    clock: options.clock,
    ...(options.logWrite === undefined ? {} : { logWrite: options.logWrite }),
  });
  const server = await startServer({ container, host: "127.0.0.1", port: 0 });
  let users = 0;
  return {
    container,
    server,
    baseUrl: `http://127.0.0.1:${server.port}/v1`,
    async createFundedUser(usd) {
      users += 1;
      const user = await createUser(container.db, {
        email: `user${users}-${Date.now()}@example.com`,
        password: "password-123",
      });
      const amountNano = parseUsdToNano(usd);
      if (amountNano !== 0n) await addCredits(container.db, container.changes, { userId: user.id, amountNano });
      const { key, plaintext } = await createApiKey(container.db, { userId: user.id, name: "test" });
      return { userId: user.id, apiKey: plaintext, apiKeyId: key.id };
    },
    async stop() {
      await server.stop(1_000);
      await container.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
