import { z } from "zod";
import { listPriceVersions } from "~/server/services/price-versions";
import { adminProcedure } from "../../../trpc";

/** Every price an endpoint has had, newest first: who set it, and from when. */
export const priceHistory = adminProcedure
  .input(z.object({ endpointId: z.uuid() }))
  .query(({ ctx, input }) => listPriceVersions(ctx.container.db, input.endpointId));
