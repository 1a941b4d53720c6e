import { listModelsForAdmin } from "~/server/services/models";
import { adminProcedure } from "../../../trpc";

/** The whole catalog, disabled models included, with how many endpoints serve each. */
export const listModels = adminProcedure.query(({ ctx }) => listModelsForAdmin(ctx.container.db));
