import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Session } from "next-auth";
import { readEnv } from "~/env";
import { createCaller } from "~/server/api/root";
import type { TRPCContext } from "~/server/api/trpc";
import { createContainer, setContainer, type Container } from "~/server/container";
import { createUser, type UserRole } from "~/server/services/users";
import { createTestDatabase } from "../../helpers/test-database";

export interface ApiTestApp {
  container: Container;
  /** A tRPC caller as the given user, or signed out with `null`. */
  callerFor(user: SessionUser | null): ReturnType<typeof createCaller>;
  close(): Promise<void>;
}

export interface SessionUser {
  id: string;
  email: string;
  role: UserRole;
}

export function sessionFor(user: SessionUser): Session {
  return {
    user: { id: user.id, email: user.email, name: null, role: user.role },
    expires: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
  };
}

/**
 * A container on a fresh database (PGlite, or PostgreSQL with TEST_DATABASE_URL), installed as the process's
 * container, and a way to call the routers as anyone.
 */
export async function startApiTestApp(): Promise<ApiTestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-api-test-"));
  const env = readEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    AUTH_SECRET: "x".repeat(40),
    ENCRYPTION_KEY: "0".repeat(64),
    // A fixed admin, so bootstrap does not generate one and print its password.
    ADMIN_EMAIL: "admin@example.com",
    ADMIN_PASSWORD: "admin-password-123",
  });
  const database = await createTestDatabase();
  const container = await createContainer({ env, database: database.handle });
  setContainer(Promise.resolve(container));
  return {
    container,
    callerFor(user) {
      const context: TRPCContext = {
        headers: new Headers(),
        session: user === null ? null : sessionFor(user),
        container,
      };
      return createCaller(context);
    },
    async close() {
      await container.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A user made with a password, as a procedure's caller sees them (`app.callerFor(user)`). */
export async function createSessionUser(
  app: ApiTestApp,
  email: string,
  role: "user" | "admin" = "user",
): Promise<SessionUser> {
  const user = await createUser(app.container.db, { email, password: `${role}-password-123`, role });
  return { id: user.id, email: user.email, role };
}
