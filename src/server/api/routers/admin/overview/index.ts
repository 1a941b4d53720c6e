import { createTRPCRouter } from "../../../trpc";
import { getOverview } from "./get";

export const adminOverviewRouter = createTRPCRouter({ get: getOverview });
