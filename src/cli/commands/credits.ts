import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import { addCredits, adjustCredits } from "~/server/services/credits";
import { requireUserByEmail } from "~/server/services/users";
import { optionText, requiredString, UsageError, type CommandSpec } from "../command";
import { formatUsd } from "../format";
import { readEmail } from "../option-readers";

function readAmountNano(text: string): bigint {
  let nano: bigint;
  try {
    nano = parseUsdToNano(text);
  } catch {
    throw new UsageError(
      `--usd: expected a USD amount with at most 9 decimals, such as 10 or -0.25, not ${JSON.stringify(text)}`,
    );
  }
  if (nano === 0n) throw new UsageError("--usd: the amount must not be zero");
  return nano;
}

export const creditsAdd: CommandSpec = {
  path: ["credits", "add"],
  summary: "Add credit to a user's balance through the ledger (a negative amount corrects it downwards)",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "Whose balance" },
    usd: {
      type: "string",
      valueName: "AMOUNT",
      required: true,
      description: "Decimal USD, exact to 9 decimals; may be negative",
    },
    note: { type: "string", valueName: "TEXT", description: "Why, kept with the ledger entry" },
  },
  async run(input, { db, changes, actor }) {
    const amountNano = readAmountNano(requiredString(input, "usd"));
    const user = await requireUserByEmail(db, readEmail(input));
    const note = optionText(input, "note");
    const { balanceNano } = await addCredits(
      db,
      changes,
      { userId: user.id, amountNano, note },
      { actor, action: "credits.grant", targetLabel: user.email },
    );
    const verb = amountNano < 0n ? `Removed ${formatUsd(-amountNano)} from` : `Added ${formatUsd(amountNano)} to`;
    return {
      text: `${verb} ${user.email}. Balance: ${formatUsd(balanceNano)}`,
      json: {
        userId: user.id,
        email: user.email,
        amountNano,
        amountUsd: formatNanoAsUsd(amountNano),
        balanceNano,
        balanceUsd: formatNanoAsUsd(balanceNano),
      },
    };
  },
};

export const creditsAdjust: CommandSpec = {
  path: ["credits", "adjust"],
  summary: "Correct a user's balance up or down with a ledger adjustment that records why",
  options: {
    email: { type: "string", valueName: "EMAIL", required: true, description: "Whose balance" },
    usd: {
      type: "string",
      valueName: "AMOUNT",
      required: true,
      description: "Decimal USD, exact to 9 decimals; negative to remove credit",
    },
    note: { type: "string", valueName: "TEXT", required: true, description: "Why, kept with the ledger entry" },
  },
  async run(input, { db, changes, actor }) {
    const amountNano = readAmountNano(requiredString(input, "usd"));
    const note = optionText(input, "note");
    if (note === null) throw new UsageError("--note must say why");
    const user = await requireUserByEmail(db, readEmail(input));
    const { balanceNano } = await adjustCredits(
      db,
      changes,
      { userId: user.id, amountNano, note },
      { actor, targetLabel: user.email },
    );
    const change = amountNano < 0n ? `-${formatUsd(-amountNano)}` : `+${formatUsd(amountNano)}`;
    return {
      text: `Adjusted ${user.email} by ${change} (${note}). Balance: ${formatUsd(balanceNano)}`,
      json: {
        userId: user.id,
        email: user.email,
        amountNano,
        amountUsd: formatNanoAsUsd(amountNano),
        note,
        balanceNano,
        balanceUsd: formatNanoAsUsd(balanceNano),
      },
    };
  },
};

export const creditsCommands = [creditsAdd, creditsAdjust];
