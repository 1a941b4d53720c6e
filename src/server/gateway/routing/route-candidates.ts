import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import type { Principal } from "../keys/api-key-authenticator";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { ProviderAdapter } from "../providers/types";
import type { CatalogModel } from "./catalog";
import { selectCandidates, type Candidate } from "./select-candidates";

/** Request fields that are not parameters a provider must carry (for `provider.require_parameters`). */
const NOT_PROVIDER_PARAMETERS = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "user",
  "models",
  "route",
  "provider",
]);

/** What routing reads of a request: its fallbacks, its preferences, and the names of its other fields (parameters). */
export type RoutedRequest = Pick<ChatCompletionRequest, "models" | "provider">;

/**
 * The requested model then its `models` fallbacks (each known and allowed for this key), narrowed and ordered by the
 * request's `provider` preferences. Refuses with 400 naming the constraint when the preferences exclude every
 * provider. `carried` gives the parameters an adapter carries for this kind of call (`provider.require_parameters`);
 * by default its chat parameters.
 */
export function routeCandidates(
  body: RoutedRequest,
  model: CatalogModel,
  principal: Principal,
  deps: GatewayDeps,
  carried: (adapter: ProviderAdapter) => ReadonlySet<string> | undefined = (adapter) => adapter.supportedParameters,
): Candidate[] {
  const models = [model];
  (body.models ?? []).forEach((id, index) => {
    const fallback = deps.catalog.getModel(id);
    if (fallback === undefined || fallback.endpoints.length === 0) {
      throw errors.invalidRequest(`Unknown fallback model \`${id}\`.`, `models[${index}]`, "model_not_found");
    }
    if (principal.allowedModels !== null && !principal.allowedModels.has(fallback.id)) {
      throw errors.modelNotAllowed(fallback.id);
    }
    if (!models.includes(fallback)) models.push(fallback);
  });
  const selection = selectCandidates({
    models,
    preferences: body.provider,
    requestParameters: Object.keys(body).filter((name) => !NOT_PROVIDER_PARAMETERS.has(name)),
    carries: (endpoint, parameter) => {
      const supported = carried(deps.providers.forChannel(endpoint.channel).adapter);
      return supported === undefined || supported.has(parameter);
    },
    statsOf: (endpoint) => deps.channelStats.get(endpoint.channel.id, endpoint.upstreamModel),
    random: deps.random,
  });
  if ("excludedBy" in selection) {
    throw errors.invalidRequest(
      `No provider of \`${model.id}\` satisfies \`${selection.excludedBy}\`: relax it to let the call through.`,
      selection.excludedBy,
      "no_provider_matches",
    );
  }
  return selection.candidates;
}
