import { z } from "zod";
import { modelPatchSchema, updateModel } from "~/server/services/models";
import { adminProcedure } from "../../../trpc";

/** Edits a model's metadata, or enables/disables it; every gateway reloads at once. */
export const updateModelProcedure = adminProcedure
  .input(z.object({ id: z.string().min(1).max(200), patch: modelPatchSchema }))
  .mutation(({ ctx, input }) => updateModel(ctx.container.db, ctx.container.changes, input.id, input.patch, ctx.actor));
