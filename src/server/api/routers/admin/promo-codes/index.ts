import { createTRPCRouter } from "../../../trpc";
import { createPromo } from "./create";
import { listPromos } from "./list";

export const adminPromoCodesRouter = createTRPCRouter({ create: createPromo, list: listPromos });
