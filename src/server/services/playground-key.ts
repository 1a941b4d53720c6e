import { createHmac, randomUUID } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import type { ChangeBus } from "~/server/changes";
import type { Database } from "~/server/db";
import { apiKeys } from "~/server/db/schema";
import { displayPrefix, hashApiKey } from "~/server/gateway/keys/api-key-format";

/** What the playground's key is called wherever calls are listed (activity, exports). */
export const PLAYGROUND_KEY_NAME = "Playground";

/**
 * The playground key's plaintext, derived from its row id under the server's secret: nothing but its hash is stored,
 * and nobody is ever shown it, yet the server can present it to the gateway on every playground call.
 */
export function derivePlaygroundKey(secret: string, keyId: string): string {
  const digest = createHmac("sha256", secret).update(`tollgate playground key ${keyId}`).digest("hex");
  return `sk-gw-${digest.slice(0, 32)}`;
}

/**
 * The account's playground key, created on its first playground call. The playground calls /v1 with it, so its calls
 * take the same path as any other (limits, holds, billing, the request log) and are told apart by the key's purpose.
 * After the secret changes the stored hash is replaced (and every instance forgets the old one).
 */
export async function playgroundKeyFor(
  db: Database,
  changes: ChangeBus,
  secret: string,
  userId: string,
): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const [existing] = await db
      .select({ id: apiKeys.id, hash: apiKeys.hash })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), eq(apiKeys.purpose, "playground"), isNull(apiKeys.revokedAt)))
      .limit(1);
    if (existing !== undefined) {
      const plaintext = derivePlaygroundKey(secret, existing.id);
      const hash = hashApiKey(plaintext);
      if (existing.hash !== hash) {
        await db
          .update(apiKeys)
          .set({ hash, prefix: displayPrefix(plaintext) })
          .where(eq(apiKeys.id, existing.id));
        await changes.publish({ topic: "api-key-revoked", hash: existing.hash });
      }
      return plaintext;
    }
    const id = randomUUID();
    const plaintext = derivePlaygroundKey(secret, id);
    // Two first calls at once: the partial unique index lets one insert win; the other reads the winner's row.
    const inserted = await db
      .insert(apiKeys)
      .values({
        id,
        userId,
        name: PLAYGROUND_KEY_NAME,
        hash: hashApiKey(plaintext),
        prefix: displayPrefix(plaintext),
        purpose: "playground",
      })
      .onConflictDoNothing()
      .returning({ id: apiKeys.id });
    if (inserted.length === 1) return plaintext;
  }
  throw new Error("could not create the playground key");
}
