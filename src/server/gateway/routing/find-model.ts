import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import type { Principal } from "../keys/api-key-authenticator";
import type { CatalogModel } from "./catalog";

/**
 * The catalog model a call names, if some channel serves it and the key may use it: 404 `model_not_found` otherwise,
 * or 403 `model_not_allowed` for a key limited to other models.
 */
export function findModel(deps: GatewayDeps, principal: Principal, id: string): CatalogModel {
  const model = deps.catalog.getModel(id);
  if (model === undefined || model.endpoints.length === 0) throw errors.modelNotFound(id);
  if (principal.allowedModels !== null && !principal.allowedModels.has(model.id)) {
    throw errors.modelNotAllowed(model.id);
  }
  return model;
}
