import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { reconcileBalances } from "~/server/services/reconcile";
import { adminProcedure } from "../../../trpc";

/**
 * What `tollgate billing reconcile` checks, from the console: every balance against its ledger and its holds, in one
 * snapshot. Read-only, so it is a mutation only in that an operator asks for it (it may take a while on a big ledger).
 */
export const reconcileProcedure = adminProcedure.mutation(async ({ ctx }) => {
  const result = await reconcileBalances(ctx.container.db);
  return {
    accounts: result.accounts,
    entries: result.entries,
    checkedAt: new Date(),
    mismatches: result.mismatches.map((mismatch) => ({
      userId: mismatch.userId,
      email: mismatch.email,
      balanceUsd: formatNanoAsUsd(mismatch.balanceNano),
      ledgerUsd: formatNanoAsUsd(mismatch.ledgerNano),
      lastBalanceAfterUsd:
        mismatch.lastBalanceAfterNano === null ? null : formatNanoAsUsd(mismatch.lastBalanceAfterNano),
      heldUsd: formatNanoAsUsd(mismatch.heldNano),
      holdsUsd: formatNanoAsUsd(mismatch.holdsNano),
    })),
  };
});
