import { runCall } from "../calls/run-call";
import type { GatewayDeps } from "../deps";
import { chatCompletionBody, chatCompletionStream } from "../encoders/chat-completion-encoder";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import { chatCompletionRequestSchema } from "../protocol/chat-completion-request";
import { parseJsonBody } from "../protocol/parse-json-body";

/** POST /v1/chat/completions: OpenAI's chat completions, the gateway's own form, answered in OpenAI's format. */
export function handleChatCompletions(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  record: RequestRecord,
): Promise<GatewayResponse> {
  const body = parseJsonBody(request.body, chatCompletionRequestSchema);
  const usageChunk = body.stream_options?.include_usage === true;
  return runCall(request, principal, deps, {
    record,
    body,
    formats: { stream: () => chatCompletionStream({ usageChunk }), whole: chatCompletionBody },
  });
}
