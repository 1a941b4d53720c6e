import type { GatewayDeps } from "./deps";
import { errors, GatewayError } from "./errors";
import { handleChatCompletions } from "./handlers/chat-completions";
import { handleCredits, handleGeneration, handleKeyInfo } from "./handlers/account";
import { handleGetModel, handleListModels, handlePrices } from "./handlers/list-models";
import { jsonResponse, type GatewayRequest, type GatewayResponse } from "./http";
import { buildOpenApiDocument } from "./protocol/openapi";
import type { Principal } from "./keys/api-key-authenticator";

export type { GatewayRequest, GatewayResponse } from "./http";

export interface Gateway {
  /** Answers one /v1 request. Never throws: every failure becomes an OpenAI-shaped error response. */
  handle(request: GatewayRequest): Promise<GatewayResponse>;
}

function bearerToken(headers: GatewayRequest["headers"]): string | null {
  const header = headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? "";
}

async function authenticate(request: GatewayRequest, deps: GatewayDeps): Promise<Principal> {
  const token = bearerToken(request.headers);
  if (token === null) throw errors.missingKey();
  const principal = token === "" ? null : await deps.authenticator.authenticate(token);
  if (principal === null) throw errors.invalidKey();
  return principal;
}

const MODEL_PATH = /^\/v1\/models\/(.+)$/;

type ReadHandler = (
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
) => GatewayResponse | Promise<GatewayResponse>;

/** The key-authenticated GET endpoints beside the completions. */
const GET_ENDPOINTS: Partial<Record<string, ReadHandler>> = {
  "/v1/models": (_request, principal, deps) => handleListModels(principal, deps),
  "/v1/prices": (_request, principal, deps) => handlePrices(principal, deps),
  "/v1/key": (_request, principal, deps) => handleKeyInfo(principal, deps),
  "/v1/credits": (_request, principal, deps) => handleCredits(principal, deps),
  "/v1/generation": handleGeneration,
};

let openApiDocument: Record<string, unknown> | undefined;

/** A client's own request id is kept when it is a sane token, so its logs and ours line up. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

function requestIdFor(request: GatewayRequest, deps: GatewayDeps): string {
  const offered = request.headers["x-request-id"];
  return offered !== undefined && CLIENT_REQUEST_ID.test(offered) ? offered : `req-${deps.newGenerationId().slice(4)}`;
}

/** JSON bodies only: `application/json`, with or without parameters, or any `+json` type. */
function requireJson(request: GatewayRequest): void {
  const contentType = request.headers["content-type"];
  const mediaType = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  if (mediaType === "application/json" || mediaType?.endsWith("+json") === true) return;
  throw errors.unsupportedContentType(contentType);
}

async function route(request: GatewayRequest, deps: GatewayDeps): Promise<GatewayResponse> {
  const { method, path } = request;
  if (request.bodyOverLimit !== undefined) {
    const error = errors.payloadTooLarge(request.bodyOverLimit);
    // The rest of the upload was not read: close the connection after answering.
    error.headers.connection = "close";
    throw error;
  }
  if (path === "/v1/chat/completions") {
    if (method !== "POST") throw errors.methodNotAllowed(["POST"]);
    const principal = await authenticate(request, deps);
    requireJson(request);
    return handleChatCompletions(request, principal, deps);
  }
  if (path === "/v1/openapi.json") {
    // Public: the document describes the API, it reveals nothing about an account.
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return jsonResponse(200, (openApiDocument ??= buildOpenApiDocument()));
  }
  const read = GET_ENDPOINTS[path];
  if (read !== undefined) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return read(request, await authenticate(request, deps), deps);
  }
  const modelMatch = MODEL_PATH.exec(path);
  if (modelMatch !== null) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    const principal = await authenticate(request, deps);
    return handleGetModel(principal, deps, decodeURIComponent(modelMatch[1] ?? ""));
  }
  throw errors.routeNotFound(method, path);
}

export function createGateway(deps: GatewayDeps): Gateway {
  return {
    async handle(request) {
      const requestId = requestIdFor(request, deps);
      let response: GatewayResponse;
      try {
        response = await route(request, deps);
      } catch (error) {
        if (error instanceof GatewayError) {
          response = error.toResponse();
        } else {
          deps.logger.error("unhandled gateway error", { error, path: request.path, requestId });
          response = errors.internal().toResponse();
        }
      }
      response.headers["x-request-id"] = requestId;
      return response;
    },
  };
}
