import { exportCatalog } from "~/server/services/catalog";
import { adminProcedure } from "../../../trpc";

/** The catalog file (every model with its list prices), for bulk edits and `catalog import`. */
export const exportModels = adminProcedure.query(({ ctx }) => exportCatalog(ctx.container.db));
