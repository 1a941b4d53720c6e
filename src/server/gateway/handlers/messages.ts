import { measurePrompt } from "../billing/estimate-tokens";
import { runCall } from "../calls/run-call";
import type { GatewayDeps } from "../deps";
import { anthropicMessageBody, anthropicMessagesStream } from "../encoders/anthropic-messages-encoder";
import { jsonResponse, type GatewayRequest, type GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import {
  anthropicMessagesRequestSchema,
  anthropicOptionsOf,
  toChatRequest,
} from "../protocol/anthropic-messages-request";
import { parseJsonBody } from "../protocol/parse-json-body";
import { findModel } from "../routing/find-model";

/**
 * POST /v1/messages: Anthropic's Messages API for Claude Code and Anthropic's SDKs, on any model of the catalog. The
 * request is translated into the gateway's common form (nothing Anthropic's adapter needs is lost: thinking with
 * signatures, cache_control, tool round trips) and the answer encoded back into Anthropic's shapes.
 */
export function handleMessages(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  record: RequestRecord,
): Promise<GatewayResponse> {
  const parsed = parseJsonBody(request.body, anthropicMessagesRequestSchema);
  const body = toChatRequest({ ...parsed, model: catalogModelId(deps, parsed.model) });
  return runCall(request, principal, deps, {
    record,
    body,
    formats: { stream: (prompt) => anthropicMessagesStream(prompt.tokens), whole: anthropicMessageBody },
    anthropic: anthropicOptionsOf(parsed, request.headers["anthropic-beta"]),
  });
}

/** A dated Anthropic model name, `claude-sonnet-4-5-20250929`, without its date. */
const DATED = /-\d{8}$/;

/**
 * The catalog id for a model named as Anthropic names it, which is what Claude Code and Anthropic's SDK examples send
 * (`claude-sonnet-4-5-20250929`): the catalog model one of whose Anthropic endpoints serves that name, with or
 * without its date. Any other name is the catalog id itself.
 */
function catalogModelId(deps: GatewayDeps, name: string): string {
  if (name.includes("/") || deps.catalog.getModel(name) !== undefined) return name;
  const undated = name.replace(DATED, "");
  const served = deps.catalog
    .listModels()
    .find((model) =>
      model.endpoints.some(
        ({ channel, upstreamModel }) =>
          channel.kind === "anthropic" && (upstreamModel === name || upstreamModel === undated),
      ),
    );
  return served?.id ?? name;
}

/** `max_tokens` is the answer's; counting the prompt does not need it. */
const countTokensSchema = anthropicMessagesRequestSchema.partial({ max_tokens: true });

/**
 * POST /v1/messages/count_tokens: the prompt's input tokens as the gateway measures it for holds and estimates (the
 * o200k tokenizer, with images at their flat rate), without calling a provider. Free, like Anthropic's.
 */
export function handleCountTokens(request: GatewayRequest, principal: Principal, deps: GatewayDeps): GatewayResponse {
  const parsed = parseJsonBody(request.body, countTokensSchema);
  const model = findModel(deps, principal, catalogModelId(deps, parsed.model));
  const body = toChatRequest({ ...parsed, model: model.id, max_tokens: parsed.max_tokens ?? model.maxOutputTokens });
  return jsonResponse(200, { input_tokens: measurePrompt(body).tokens });
}
