import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Env } from "~/env";
import { parseEncryptionKey } from "./crypto/secret-box";
import type { Logger } from "./gateway/logger";

export interface Secrets {
  authSecret: string;
  encryptionKey: Buffer;
  /** Keys a rotation replaced, still read (ENCRYPTION_KEY_PREVIOUS). */
  previousEncryptionKeys: Buffer[];
  /** The session secret a rotation replaced (AUTH_SECRET_PREVIOUS). */
  previousAuthSecret: string | undefined;
}

function previousOf(env: Env): Pick<Secrets, "previousEncryptionKeys" | "previousAuthSecret"> {
  const listed = env.ENCRYPTION_KEY_PREVIOUS?.split(",").map((key) => key.trim()) ?? [];
  return {
    previousEncryptionKeys: listed.filter((key) => key !== "").map(parseEncryptionKey),
    previousAuthSecret: env.AUTH_SECRET_PREVIOUS,
  };
}

const fileSchema = z.object({ authSecret: z.string().min(32), encryptionKey: z.string() });

/**
 * AUTH_SECRET and ENCRYPTION_KEY from the environment; when absent (a first local start), generated once and kept in
 * DATA_DIR/secrets.json (mode 0600) so that sessions and encrypted channel keys survive restarts.
 */
export function resolveSecrets(env: Env, logger: Logger): Secrets {
  if (env.AUTH_SECRET !== undefined && env.ENCRYPTION_KEY !== undefined) {
    return {
      authSecret: env.AUTH_SECRET,
      encryptionKey: parseEncryptionKey(env.ENCRYPTION_KEY),
      ...previousOf(env),
    };
  }
  const file = path.resolve(env.DATA_DIR, "secrets.json");
  let stored: z.infer<typeof fileSchema>;
  if (existsSync(file)) {
    stored = fileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } else {
    stored = { authSecret: randomBytes(32).toString("base64url"), encryptionKey: randomBytes(32).toString("hex") };
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    logger.warn("generated AUTH_SECRET and ENCRYPTION_KEY; set them in the environment for production", { file });
  }
  return {
    authSecret: env.AUTH_SECRET ?? stored.authSecret,
    encryptionKey: parseEncryptionKey(env.ENCRYPTION_KEY ?? stored.encryptionKey),
    ...previousOf(env),
  };
}
