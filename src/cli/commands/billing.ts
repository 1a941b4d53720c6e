import { reconcileBalances } from "~/server/services/reconcile";
import { CommandError, type CommandSpec } from "../command";
import { formatUsd } from "../format";

export const billingReconcile: CommandSpec = {
  path: ["billing", "reconcile"],
  summary:
    "Check every account's balance against its ledger and its held amount against its open holds; exits 1 on any difference",
  options: {},
  async run(_input, { db }) {
    const { accounts, entries, mismatches } = await reconcileBalances(db);
    if (mismatches.length > 0) {
      const listed = mismatches
        .slice(0, 5)
        .map(
          (mismatch) =>
            `${mismatch.email} (balance ${formatUsd(mismatch.balanceNano)}, ledger ${formatUsd(mismatch.ledgerNano)}` +
            (mismatch.heldNano === mismatch.holdsNano
              ? ")"
              : `, held ${formatUsd(mismatch.heldNano)} but open holds ${formatUsd(mismatch.holdsNano)})`),
        )
        .join(", ");
      const more = mismatches.length > 5 ? ` and ${mismatches.length - 5} more` : "";
      throw new CommandError(`${mismatches.length} of ${accounts} accounts differ from their ledger: ${listed}${more}`);
    }
    return {
      text: `All ${accounts} accounts match their ledger (${entries} entries).`,
      json: { accounts, entries, mismatches: [] },
    };
  },
};

export const billingCommands = [billingReconcile];
