import type { GatewayDeps } from "./deps";
import { errors, GatewayError } from "./errors";
import { handleChatCompletions } from "./handlers/chat-completions";
import { handleGetModel, handleListModels } from "./handlers/list-models";
import type { GatewayRequest, GatewayResponse } from "./http";
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

async function route(request: GatewayRequest, deps: GatewayDeps): Promise<GatewayResponse> {
  const { method, path } = request;
  if (path === "/v1/chat/completions") {
    if (method !== "POST") throw errors.methodNotAllowed(["POST"]);
    return handleChatCompletions(request, await authenticate(request, deps), deps);
  }
  if (path === "/v1/models") {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    await authenticate(request, deps);
    return handleListModels(deps);
  }
  const modelMatch = MODEL_PATH.exec(path);
  if (modelMatch !== null) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    await authenticate(request, deps);
    return handleGetModel(deps, decodeURIComponent(modelMatch[1] ?? ""));
  }
  throw errors.routeNotFound(method, path);
}

export function createGateway(deps: GatewayDeps): Gateway {
  return {
    async handle(request) {
      try {
        return await route(request, deps);
      } catch (error) {
        if (error instanceof GatewayError) return error.toResponse();
        deps.logger.error("unhandled gateway error", { error, path: request.path });
        return errors.internal().toResponse();
      }
    },
  };
}
