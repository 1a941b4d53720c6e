import { parseUsdToNano } from "~/server/gateway/billing/money";
import { createPromoCode, describePromoCode, listPromoCodes, promoCodeSchema } from "~/server/services/promo-codes";
import { optionString, requiredString, UsageError, type CommandSpec } from "../command";
import { formatDate, formatTable, formatUsd } from "../format";
import { readExpiry } from "./key";

export const promoCreate: CommandSpec = {
  path: ["promo", "create"],
  summary: "Create a promo code worth an amount; each user can redeem it once on the billing page",
  options: {
    code: {
      type: "string",
      valueName: "CODE",
      required: true,
      description: "3 to 40 letters, digits or dashes; stored upper-case, redeemed case-insensitively",
    },
    usd: { type: "string", valueName: "AMOUNT", required: true, description: "Credit per redemption, decimal USD" },
    "max-redemptions": {
      type: "string",
      valueName: "N",
      description: "At most N redemptions in all (default: no cap)",
    },
    expires: {
      type: "string",
      valueName: "ISO",
      description: "Not redeemable from then on, e.g. 2030-01-31T00:00:00Z",
    },
  },
  async run(input, { db, actor }) {
    const code = promoCodeSchema.safeParse(requiredString(input, "code"));
    if (!code.success) throw new UsageError(`--code: ${code.error.issues[0]?.message ?? "invalid"}`);
    const usd = requiredString(input, "usd");
    let amountNano: bigint;
    try {
      amountNano = parseUsdToNano(usd);
    } catch {
      throw new UsageError(`--usd: expected a USD amount with at most 9 decimals, not ${JSON.stringify(usd)}`);
    }
    if (amountNano <= 0n) throw new UsageError("--usd: the amount must be positive");
    const maxText = optionString(input, "max-redemptions");
    const maxRedemptions = maxText === undefined ? null : Number(maxText);
    if (maxRedemptions !== null && !(/^\d+$/.test(maxText ?? "") && maxRedemptions >= 1))
      throw new UsageError("--max-redemptions: expected a whole number of at least 1");
    const expiresText = optionString(input, "expires");
    const expiresAt = expiresText === undefined ? null : readExpiry("expires", expiresText, false);

    const promo = describePromoCode(
      await createPromoCode(db, { code: code.data, amountNano, maxRedemptions, expiresAt }, actor),
    );
    return {
      text:
        `Created promo code ${promo.code} worth ${formatUsd(promo.amountNano)}` +
        (promo.maxRedemptions === null ? "" : `, at most ${promo.maxRedemptions} redemptions`) +
        (promo.expiresAt === null ? "" : `, until ${formatDate(promo.expiresAt)}`),
      json: promo,
    };
  },
};

export const promoList: CommandSpec = {
  path: ["promo", "list"],
  summary: "List promo codes with how often each was redeemed, newest first",
  options: {},
  async run(_input, { db }) {
    const promos = (await listPromoCodes(db)).map(describePromoCode);
    const text =
      promos.length === 0
        ? "No promo codes"
        : formatTable(
            ["CODE", "AMOUNT", "REDEEMED", "EXPIRES", "CREATED"],
            promos.map((promo) => [
              promo.code,
              formatUsd(promo.amountNano),
              `${promo.redemptionCount}${promo.maxRedemptions === null ? "" : ` of ${promo.maxRedemptions}`}`,
              formatDate(promo.expiresAt),
              formatDate(promo.createdAt),
            ]),
          );
    return { text, json: promos };
  },
};

export const promoCommands = [promoCreate, promoList];
