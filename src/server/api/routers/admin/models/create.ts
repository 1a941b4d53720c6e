import { catalogModelSchema } from "~/server/catalog/catalog-file";
import { createModel } from "~/server/services/models";
import { adminProcedure } from "../../../trpc";

/** Adds a model as a catalog file entry describes it; its list prices are what new endpoints start from. */
export const createModelProcedure = adminProcedure
  .input(catalogModelSchema)
  .mutation(({ ctx, input }) => createModel(ctx.container.db, ctx.container.changes, input, ctx.actor));
