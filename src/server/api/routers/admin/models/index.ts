import { createTRPCRouter } from "../../../trpc";
import { addEndpoints } from "./add-endpoints";
import { createModelProcedure } from "./create";
import { explainCost } from "./explain-cost";
import { exportModels } from "./export";
import { getModel } from "./get";
import { listModels } from "./list";
import { priceHistory } from "./price-history";
import { updateModelProcedure } from "./update";
import { updateEndpoint } from "./update-endpoint";

/** The catalog for admins: models, the endpoints serving them, their prices and the history of those prices. */
export const adminModelsRouter = createTRPCRouter({
  list: listModels,
  get: getModel,
  create: createModelProcedure,
  update: updateModelProcedure,
  updateEndpoint,
  addEndpoints,
  priceHistory,
  explainCost,
  export: exportModels,
});
