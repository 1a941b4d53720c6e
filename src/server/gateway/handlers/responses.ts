import { runCall } from "../calls/run-call";
import type { GatewayDeps } from "../deps";
import { responsesBody, responsesStream } from "../encoders/responses-encoder";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import { parseJsonBody } from "../protocol/parse-json-body";
import { responseSettingsOf, responsesRequestSchema, toChatRequest } from "../protocol/responses-request";

/**
 * POST /v1/responses: OpenAI's Responses API, stateless, on any model of the catalog. The request (the whole
 * conversation, as the gateway keeps none) is translated into the gateway's common form, reasoning carried back from
 * earlier turns included, and the answer encoded as a Response or its stream of events. Errors use OpenAI's envelope.
 */
export function handleResponses(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  record: RequestRecord,
): Promise<GatewayResponse> {
  const parsed = parseJsonBody(request.body, responsesRequestSchema);
  const settings = responseSettingsOf(parsed);
  return runCall(request, principal, deps, {
    record,
    body: toChatRequest(parsed),
    formats: { stream: () => responsesStream(settings), whole: responsesBody(settings) },
  });
}
