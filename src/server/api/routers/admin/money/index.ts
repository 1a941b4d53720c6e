import { createTRPCRouter } from "../../../trpc";
import { searchLedgerProcedure } from "./ledger";
import { reconcileProcedure } from "./reconcile";
import { stripeEventsProcedure } from "./stripe-events";

export const adminMoneyRouter = createTRPCRouter({
  ledger: searchLedgerProcedure,
  reconcile: reconcileProcedure,
  stripeEvents: stripeEventsProcedure,
});
