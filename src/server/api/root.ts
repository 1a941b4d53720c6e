import { accountRouter } from "./routers/account";
import { activityRouter } from "./routers/activity";
import { adminRouter } from "./routers/admin";
import { billingRouter } from "./routers/billing";
import { keysRouter } from "./routers/keys";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  account: accountRouter,
  activity: activityRouter,
  keys: keysRouter,
  billing: billingRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side calls without HTTP: `createCaller(context).account.me()`. */
export const createCaller = createCallerFactory(appRouter);
