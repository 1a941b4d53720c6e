import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Database } from "~/server/db";
import type { ChangeBus } from "~/server/changes";
import { postLedgerEntries, readBalanceNano, type LedgerKind } from "~/server/gateway/billing/ledger";
import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";
import { ServiceError } from "./service-error";

/**
 * A USD amount from a form or an API call, as exact nano-USD. A decimal string is parsed as is; a number is taken by
 * its shortest decimal spelling (0.1 → "0.1"), which is what the caller typed, never through float arithmetic.
 * May be negative or zero: callers add their own bounds.
 */
export const usdAmountSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return parseUsdToNano(String(value));
  } catch {
    context.addIssue({ code: "custom", message: "A USD amount with at most 9 decimals, such as 10 or 0.25" });
    return z.NEVER;
  }
});

/** Records an admin's credit in the audit log, in the transaction that posts it. */
export interface CreditAudit {
  actor: AuditActor;
  /** `credits.grant` (a gift or goodwill) or `credits.adjust` (a correction, either way). */
  action: "credits.grant" | "credits.adjust";
  targetLabel: string;
}

/**
 * Adds (or, with a negative amount, removes) credit through the ledger and tells gateways to re-read the balance.
 * With `audit`, the admin's action is recorded in the same transaction; a replay (same external id) posts nothing and
 * records nothing.
 */
export async function addCredits(
  db: Database,
  changes: ChangeBus,
  input: { userId: string; amountNano: bigint; kind?: LedgerKind; externalId?: string; note?: string | null },
  audit?: CreditAudit,
): Promise<{ balanceNano: bigint; posted: boolean }> {
  const result = await db.transaction(async (tx) => {
    const posted = await postLedgerEntries(tx, [
      {
        userId: input.userId,
        kind: input.kind ?? "adjustment",
        externalId: input.externalId ?? `manual-${randomUUID()}`,
        amountNano: input.amountNano,
        note: input.note ?? null,
      },
    ]);
    const balanceNano = posted.balances.get(input.userId) ?? 0n;
    if (audit !== undefined && posted.posted.length > 0) {
      await recordAudit(tx, audit.actor, {
        action: audit.action,
        target: { type: "user", id: input.userId, label: audit.targetLabel },
        before: { balanceUsd: formatNanoAsUsd(balanceNano - input.amountNano) },
        after: { balanceUsd: formatNanoAsUsd(balanceNano), amountUsd: formatNanoAsUsd(input.amountNano) },
        note: input.note ?? null,
      });
    }
    return { balanceNano, posted: posted.posted.length > 0 };
  });
  await changes.publish({ topic: "balance-changed", userId: input.userId });
  return result;
}

export class AdjustmentInputError extends ServiceError {
  constructor(message: string) {
    super("invalid_input", message);
    this.name = "AdjustmentInputError";
  }
}

/**
 * An operator's correction, up or down, as a ledger `adjustment`. The note is required: a balance changed by hand
 * must say why, for whoever reads the ledger later. `requestId` makes a retried submission a no-op.
 */
export async function adjustCredits(
  db: Database,
  changes: ChangeBus,
  input: { userId: string; amountNano: bigint; note: string; requestId?: string },
  audit: { actor: AuditActor; targetLabel: string },
): Promise<{ balanceNano: bigint; posted: boolean }> {
  const note = input.note.trim();
  if (note === "") throw new AdjustmentInputError("An adjustment needs a note saying why");
  if (input.amountNano === 0n) throw new AdjustmentInputError("The amount must not be zero");
  return addCredits(
    db,
    changes,
    {
      userId: input.userId,
      amountNano: input.amountNano,
      kind: "adjustment",
      ...(input.requestId === undefined ? {} : { externalId: `adjust-${input.requestId}` }),
      note,
    },
    { ...audit, action: "credits.adjust" },
  );
}

export function getBalanceNano(db: Database, userId: string): Promise<bigint> {
  return readBalanceNano(db, userId);
}
