import type { Env } from "~/env";
import { createChangeBus, type ChangeBus } from "~/server/changes";
import type { Container } from "~/server/container";
import { createSecretBox, type SecretBox } from "~/server/crypto/secret-box";
import { openDatabase, type Database, type DatabaseHandle } from "~/server/db";
import { migrate } from "~/server/db/migrate";
import type { Logger } from "~/server/gateway/logger";
import { resolveSecrets } from "~/server/secrets";
import { cliActor, type AuditActor } from "~/server/services/audit-actor";
import type { Invoker } from "./invoker";

/** Everything a command may touch. Built either by the CLI process itself or from a running server's container. */
export interface CliContext {
  db: Database;
  database: DatabaseHandle;
  changes: ChangeBus;
  secretBox: SecretBox;
  env: Env;
  /** `server` when the command runs inside a running server (through the control socket). */
  origin?: "cli" | "server";
  /**
   * The invoking process's working directory and environment, for `--api-key-env` and relative paths. Absent when
   * the command runs in a server: the CLI resolves those references before it forwards a command.
   */
  invoker?: Invoker;
  /** Who runs the command, for the audit log of the admin actions it takes. */
  actor: AuditActor;
  /**
   * In a server: writes every call already answered (queued in its usage writer) to the database, so that a backup
   * taken next holds them; rejects when the writer cannot write. A CLI process bills nothing and has none.
   */
  writeQueuedUsage?: () => Promise<void>;
}

/** For the server: run CLI commands against its own database, so that its ChangeBus applies changes in-process. */
export function createCliContextFromContainer(
  container: Pick<Container, "env" | "database" | "db" | "changes" | "secretBox"> &
    Partial<Pick<Container, "usageWriter">>,
  /** The label the CLI sent for whoever ran it; without one, this process's own user. */
  actorLabel?: string,
): CliContext {
  const { usageWriter } = container;
  return {
    db: container.db,
    database: container.database,
    changes: container.changes,
    secretBox: container.secretBox,
    env: container.env,
    origin: "server",
    actor: actorLabel === undefined ? cliActor() : { userId: null, label: actorLabel, via: "cli" },
    writeQueuedUsage: usageWriter === undefined ? undefined : () => usageWriter.writeQueued(),
  };
}

/**
 * Resolves the encryption key on first use only: commands that never touch a channel secret should not create
 * DATA_DIR/secrets.json as a side effect. The key comes from the same place the server takes it from.
 */
function createLazySecretBox(env: Env, logger: Logger): SecretBox {
  let box: SecretBox | undefined;
  const get = () => {
    if (box === undefined) {
      const secrets = resolveSecrets(env, logger);
      box = createSecretBox(secrets.encryptionKey, secrets.previousEncryptionKeys);
    }
    return box;
  };
  return {
    encrypt: (plaintext) => get().encrypt(plaintext),
    decrypt: (ciphertext) => get().decrypt(ciphertext),
    isCurrent: (ciphertext) => get().isCurrent(ciphertext),
  };
}

/**
 * Opens the database the way the CLI process does on its own: PostgreSQL from DATABASE_URL (a small pool), or the
 * PGlite directory when no server owns it. Applies pending migrations first. Changes are published with NOTIFY so
 * that running gateways on PostgreSQL hear about them; the CLI itself does not listen.
 */
export async function openCliContext(
  env: Env,
  logger: Logger,
  invoker: Invoker,
): Promise<{ context: CliContext; close(): Promise<void> }> {
  const database =
    env.DATABASE_URL !== undefined
      ? openDatabase({ kind: "postgres", url: env.DATABASE_URL, poolSize: 2 })
      : openDatabase({ kind: "pglite", dataDir: env.PGLITE_DIR, sharedBuffers: env.PGLITE_SHARED_BUFFERS });
  let changes: ChangeBus;
  try {
    await migrate(database);
    changes = await createChangeBus(database, logger, { listen: false });
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const context: CliContext = {
    db: database.db,
    database,
    changes,
    secretBox: createLazySecretBox(env, logger),
    env,
    origin: "cli",
    invoker,
    actor: cliActor(invoker.variables),
  };
  return {
    context,
    async close() {
      await changes.close();
      await database.close();
    },
  };
}
