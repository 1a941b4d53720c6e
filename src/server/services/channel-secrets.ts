import { eq, isNotNull } from "drizzle-orm";
import type { Database } from "~/server/db";
import type { SecretBox } from "~/server/crypto/secret-box";
import { channels } from "~/server/db/schema";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";

/**
 * The last step of an ENCRYPTION_KEY rotation: every channel key still under a previous key (ENCRYPTION_KEY_PREVIOUS)
 * written again under the current one, in one transaction, each audited; keys already under it are left alone. If any key cannot
 * be read, nothing is changed and the channels are named. The plaintext keys are the same, so routing is unaffected.
 */
export async function reencryptChannelSecrets(
  db: Database,
  secretBox: SecretBox,
  actor: AuditActor,
): Promise<{ channels: string[] }> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: channels.id, name: channels.name, encryptedSecret: channels.encryptedSecret })
      .from(channels)
      .where(isNotNull(channels.encryptedSecret))
      .orderBy(channels.name)
      .for("update");
    const unreadable: string[] = [];
    const rewritten: { id: string; name: string; encryptedSecret: string }[] = [];
    for (const row of rows) {
      // Already under the current key (a second run, or a channel saved since the rotation began): left as it is.
      if (secretBox.isCurrent(row.encryptedSecret!)) continue;
      try {
        rewritten.push({
          id: row.id,
          name: row.name,
          encryptedSecret: secretBox.encrypt(secretBox.decrypt(row.encryptedSecret!)),
        });
      } catch {
        unreadable.push(row.name);
      }
    }
    if (unreadable.length > 0) {
      throw new Error(
        `the keys of ${unreadable.join(", ")} cannot be decrypted with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS; ` +
          "nothing was changed (set the key they were written with in ENCRYPTION_KEY_PREVIOUS, or set new keys on those channels)",
      );
    }
    for (const channel of rewritten) {
      await tx.update(channels).set({ encryptedSecret: channel.encryptedSecret }).where(eq(channels.id, channel.id));
      await recordAudit(tx, actor, {
        action: "channel.reencrypt",
        target: { type: "channel", id: channel.id, label: channel.name },
      });
    }
    return { channels: rewritten.map((channel) => channel.name) };
  });
}
