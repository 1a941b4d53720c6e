import { runEmbeddings } from "../calls/run-embeddings";
import type { GatewayDeps } from "../deps";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import { embeddingsRequestSchema } from "../protocol/embeddings-request";
import { parseJsonBody } from "../protocol/parse-json-body";

/** POST /v1/embeddings: OpenAI's embeddings API on the catalog's embedding models, answered in OpenAI's format. */
export function handleEmbeddings(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  record: RequestRecord,
): Promise<GatewayResponse> {
  const body = parseJsonBody(request.body, embeddingsRequestSchema);
  return runEmbeddings(request, principal, deps, { record, body });
}
