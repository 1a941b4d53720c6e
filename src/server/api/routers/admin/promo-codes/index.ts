import { createTRPCRouter } from "../../../trpc";
import { createPromo } from "./create";
import { expirePromo } from "./expire";
import { listPromos } from "./list";
import { promoRedemptions } from "./redemptions";

export const adminPromoCodesRouter = createTRPCRouter({
  create: createPromo,
  list: listPromos,
  expire: expirePromo,
  redemptions: promoRedemptions,
});
