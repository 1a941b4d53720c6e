import { createTRPCRouter } from "../../trpc";
import { adminAuditRouter } from "./audit";
import { adminChannelsRouter } from "./channels";
import { adminCreditsRouter } from "./credits";
import { adminModelsRouter } from "./models";
import { adminMoneyRouter } from "./money";
import { adminOverviewRouter } from "./overview";
import { adminPromoCodesRouter } from "./promo-codes";
import { adminRequestsRouter } from "./requests";
import { adminUsersRouter } from "./users";

/**
 * The operator's console: every procedure is an `adminProcedure` (FORBIDDEN for anyone else), and every change it
 * makes is written to the audit log in the change's own transaction. One procedure per file.
 */
export const adminRouter = createTRPCRouter({
  overview: adminOverviewRouter,
  users: adminUsersRouter,
  credits: adminCreditsRouter,
  promoCodes: adminPromoCodesRouter,
  money: adminMoneyRouter,
  channels: adminChannelsRouter,
  models: adminModelsRouter,
  requests: adminRequestsRouter,
  audit: adminAuditRouter,
});
