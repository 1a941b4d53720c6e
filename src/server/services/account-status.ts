import { eq, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { users } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";
import { evictAccountKeysFromCaches } from "./api-keys";
import { NotFoundError } from "./users";
import { ServiceError } from "./service-error";

export class AccountStatusError extends ServiceError {
  constructor(message: string) {
    super("invalid_input", message);
    this.name = "AccountStatusError";
  }
}

export interface AccountStatus {
  disabledAt: Date | null;
  disabledReason: string | null;
}

/**
 * Disables an account (every gateway refuses its keys from their next call, its sessions end and it cannot sign in)
 * or enables it again. Nothing else changes: keys, balance and limits are as they were when it comes back. The reason
 * is required to disable, and shown to the customer when a sign-in is refused. An admin cannot disable their own
 * account (the console would lock them out mid-action).
 */
export async function setAccountDisabled(
  db: Database,
  changes: ChangeBus,
  input: { userId: string; disabled: boolean; reason?: string | null },
  actor: AuditActor,
): Promise<AccountStatus> {
  const reason = input.reason?.trim() ?? "";
  if (input.disabled && reason === "") throw new AccountStatusError("Say why the account is disabled");
  if (input.disabled && actor.userId === input.userId) throw new AccountStatusError("You cannot disable yourself");
  const status = await db.transaction(async (tx) => {
    const [before] = await tx
      .select({ email: users.email, disabledAt: users.disabledAt, disabledReason: users.disabledReason })
      .from(users)
      .where(eq(users.id, input.userId))
      .for("update");
    if (before === undefined) throw new NotFoundError(`No user with id ${input.userId}`);
    const [after] = await tx
      .update(users)
      .set(
        input.disabled
          ? // Disabling again keeps the first time and replaces the reason.
            {
              disabledAt: before.disabledAt ?? sql`now()`,
              disabledReason: reason,
              sessionsValidAfter: sql`now()`,
            }
          : { disabledAt: null, disabledReason: null },
      )
      .where(eq(users.id, input.userId))
      .returning({ disabledAt: users.disabledAt, disabledReason: users.disabledReason });
    await recordAudit(tx, actor, {
      action: input.disabled ? "account.disable" : "account.enable",
      target: { type: "user", id: input.userId, label: before.email },
      before: { disabled: before.disabledAt !== null, reason: before.disabledReason },
      after: { disabled: after!.disabledAt !== null, reason: after!.disabledReason },
      note: input.disabled ? reason : null,
    });
    return after!;
  });
  await evictAccountKeysFromCaches(db, changes, input.userId);
  return status;
}
