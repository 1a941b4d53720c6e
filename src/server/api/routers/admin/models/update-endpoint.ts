import { z } from "zod";
import { endpointPatchSchema, updateModelEndpoint } from "~/server/services/model-endpoints";
import { adminProcedure } from "../../../trpc";

/**
 * Reprices an endpoint, changes its markup, priority, weight or upstream name, or enables/disables it. A price change
 * is a new dated version; new calls on every gateway are billed at it from the moment it commits.
 */
export const updateEndpoint = adminProcedure
  .input(
    z.object({
      id: z.uuid(),
      patch: endpointPatchSchema,
      /** The price version the editor showed; a newer one makes this CONFLICT instead of overwriting it. */
      expectedPriceVersionId: z.number().int().positive().optional(),
    }),
  )
  .mutation(({ ctx, input }) =>
    updateModelEndpoint(
      ctx.container.db,
      ctx.container.changes,
      input.id,
      input.patch,
      ctx.actor,
      input.expectedPriceVersionId,
    ),
  );
