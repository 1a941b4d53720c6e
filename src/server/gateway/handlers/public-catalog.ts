import { createHash } from "node:crypto";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import { jsonResponse, type GatewayRequest, type GatewayResponse } from "../http";
import type { PublicModel } from "../protocol/api-schemas";
import type { CatalogModel } from "../routing/catalog";
import { endpointsInRoutingOrder, renderModel, renderModelEndpoints } from "./list-models";

/*
 * The public model catalog, in OpenRouter's `/api/v1/models` shape: every listed model with the prices Tollgate
 * charges (markup included), for visitors without a key, the /models pages and scripts that compare prices.
 * `/v1/models` keeps requiring a key, as OpenAI's does. Nothing here depends on who asks, so it is rendered once per
 * catalog load and answered with an ETag, and any site may read it (CORS).
 */

const PUBLIC_HEADERS = { "access-control-allow-origin": "*", vary: "accept-encoding" };
/** Prices change when an operator edits them, which reloads the catalog: a minute of staleness in caches is fine. */
const LIST_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300";
/** Endpoint statistics move every minute. */
const ENDPOINTS_CACHE_CONTROL = "public, max-age=15";

/** "text+image->text", OpenRouter's one-string summary of what goes in and out. */
function modalitySummary(model: CatalogModel): string {
  return `${model.inputModalities.join("+")}->${model.outputModalities.join("+")}`;
}

/** Provider slugs of a model's endpoints in the default routing order, each once. */
function providersOf(model: CatalogModel): string[] {
  return [...new Set(endpointsInRoutingOrder(model).map((endpoint) => endpoint.channel.provider))];
}

export function renderPublicModel(model: CatalogModel, deps: GatewayDeps): PublicModel {
  const rendered = renderModel(model, deps);
  return {
    ...rendered,
    canonical_slug: model.id,
    architecture: { modality: modalitySummary(model), ...rendered.architecture },
    top_provider: { ...rendered.top_provider, is_moderated: false },
    per_request_limits: null,
    providers: providersOf(model),
  };
}

interface RenderedList {
  models: PublicModel[];
  body: string;
  etag: string;
}

/**
 * The catalog hands out the same array until it reloads, so the array itself keys the rendering: a reload (an
 * operator's change, on every instance) renders afresh, and nothing else does.
 */
const renderedLists = new WeakMap<readonly CatalogModel[], RenderedList>();

function renderedList(deps: GatewayDeps): RenderedList {
  const listed = deps.catalog.listModels();
  let rendered = renderedLists.get(listed);
  if (rendered === undefined) {
    const models = listed.map((model) => renderPublicModel(model, deps));
    const body = JSON.stringify({ data: models });
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    rendered = { models, body, etag };
    renderedLists.set(listed, rendered);
  }
  return rendered;
}

/** Every model the public catalog lists, as `/api/v1/models` renders it (the /models pages read this). */
export function listPublicModels(deps: GatewayDeps): PublicModel[] {
  return renderedList(deps).models;
}

/** A listed model by id, or undefined: one without an enabled endpoint is not in the catalog. */
export function findPublicModel(deps: GatewayDeps, id: string): CatalogModel | undefined {
  const model = deps.catalog.getModel(id);
  return model !== undefined && model.endpoints.length > 0 ? model : undefined;
}

function notModified(request: GatewayRequest, etag: string): boolean {
  const offered = request.headers["if-none-match"];
  if (offered === undefined) return false;
  return offered.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag || tag.trim() === "*");
}

/**
 * GET /api/v1/models. `supported_parameters=tools,response_format` keeps the models that take all of them, as on
 * OpenRouter.
 */
export function handlePublicModels(request: GatewayRequest, deps: GatewayDeps): GatewayResponse {
  const rendered = renderedList(deps);
  const required = (request.query.get("supported_parameters") ?? "")
    .split(",")
    .map((parameter) => parameter.trim())
    .filter((parameter) => parameter !== "");
  if (required.length > 0) {
    const data = rendered.models.filter((model) =>
      required.every((parameter) => model.supported_parameters.includes(parameter)),
    );
    return jsonResponse(200, { data }, { ...PUBLIC_HEADERS, "cache-control": LIST_CACHE_CONTROL });
  }
  const headers = { ...PUBLIC_HEADERS, "cache-control": LIST_CACHE_CONTROL, etag: rendered.etag };
  if (notModified(request, rendered.etag)) return { status: 304, headers, body: "" };
  return { status: 200, headers: { "content-type": "application/json", ...headers }, body: rendered.body };
}

/** GET /api/v1/models/{author}/{slug}/endpoints: the same as the keyed route, for any listed model. */
export function handlePublicModelEndpoints(deps: GatewayDeps, id: string): GatewayResponse {
  const model = findPublicModel(deps, id);
  if (model === undefined) throw errors.modelNotFound(id);
  return jsonResponse(200, renderModelEndpoints(model, deps), {
    ...PUBLIC_HEADERS,
    "cache-control": ENDPOINTS_CACHE_CONTROL,
  });
}
