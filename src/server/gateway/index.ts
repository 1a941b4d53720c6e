import type { GatewayDeps } from "./deps";
import { errors, GatewayError } from "./errors";
import { handleChatCompletions } from "./handlers/chat-completions";
import { handleEmbeddings } from "./handlers/embeddings";
import { handleCountTokens, handleMessages } from "./handlers/messages";
import { handleResponses } from "./handlers/responses";
import { handleActivity, handleCredits, handleGeneration, handleKeyInfo } from "./handlers/account";
import {
  handleGetModel,
  handleListModels,
  handleModelEndpoints,
  handlePrices,
  renderModelEndpoints,
} from "./handlers/list-models";
import {
  findPublicModel,
  handlePublicModelEndpoints,
  handlePublicModels,
  listPublicModels,
} from "./handlers/public-catalog";
import type { ModelEndpointList, PublicModel } from "./protocol/api-schemas";
import { jsonResponse, type GatewayRequest, type GatewayResponse } from "./http";
import {
  describeRefusal,
  rateLimitHeaders,
  releaseWhenFinished,
  retryAfterSeconds,
  UNLIMITED_REQUEST_HEADERS,
} from "./limits/rate-limit-http";
import { isLimited, type Admission } from "./limits/rate-limiter";
import { anthropicErrorResponse } from "./protocol/anthropic-errors";
import { buildOpenApiDocument } from "./protocol/openapi";
import type { Principal } from "./keys/api-key-authenticator";
import type { RequestRecord } from "./observe/request-record";
import { readTraceContext } from "./observe/trace-context";

export type { GatewayRequest, GatewayResponse } from "./http";

export interface Gateway {
  /** Answers one /v1 request. Never throws: every failure becomes an OpenAI-shaped error response. */
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /** The public catalog as /api/v1/models renders it, for the /models pages. */
  publicCatalog: {
    list(): PublicModel[];
    /** A listed model's endpoints with their live statistics; undefined when the model is not listed. */
    endpoints(id: string): ModelEndpointList | undefined;
  };
}

function bearerToken(headers: GatewayRequest["headers"]): string | null {
  const header = headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? "";
}

/** Anthropic's doors also take the key as Anthropic's SDKs send theirs: `x-api-key`. */
function isAnthropicDoor(path: string): boolean {
  return path === "/v1/messages" || path.startsWith("/v1/messages/");
}

async function authenticate(request: GatewayRequest, deps: GatewayDeps, record: RequestRecord): Promise<Principal> {
  let token = bearerToken(request.headers);
  if (token === null && isAnthropicDoor(request.path)) token = request.headers["x-api-key"]?.trim() ?? null;
  if (token === null) throw errors.missingKey();
  if (token === "") throw errors.invalidKey();
  const authentication = await deps.authenticator.authenticate(token);
  if (authentication.status === "active") {
    record.principal = authentication.principal;
    return authentication.principal;
  }
  throw authentication.status === "unknown" ? errors.invalidKey() : errors.inactiveKey(authentication.status);
}

/** Headers for whatever response the request ends with, a refusal or a failure included: the rate limit state. */
type ExtraHeaders = Record<string, string>;

/**
 * Counts a completion against its key's and account's limits, or refuses it with a 429. Returns what gives its
 * concurrency slot back. A failing limiter (Redis down) lets the call through: refusing every call would be a worse
 * outage than not limiting for a while.
 */
async function admitCall(principal: Principal, deps: GatewayDeps, extra: ExtraHeaders): Promise<() => Promise<void>> {
  let admission: Admission;
  try {
    admission = await deps.rateLimiter.admit(principal);
  } catch (error) {
    deps.logger.error("rate limiter failed; admitting without limits", { error });
    return () => Promise.resolve();
  }
  Object.assign(extra, rateLimitHeaders(admission.state));
  if (!admission.admitted) {
    throw errors.rateLimitExceeded(describeRefusal(admission.refusal), retryAfterSeconds(admission.refusal));
  }
  return admission.release;
}

/** The endpoints that do not count still tell the client where it stands. */
async function describeLimits(principal: Principal, deps: GatewayDeps, extra: ExtraHeaders): Promise<void> {
  if (!isLimited(principal.rateLimits)) {
    Object.assign(extra, UNLIMITED_REQUEST_HEADERS);
    return;
  }
  try {
    Object.assign(extra, rateLimitHeaders(await deps.rateLimiter.peek(principal)));
  } catch (error) {
    deps.logger.error("rate limiter failed; answering without rate limit headers", { error });
  }
}

/**
 * Authenticated reads: the answer and the current rate limit headers, fetched side by side. The headers are awaited
 * whichever way the answer ends (an error thrown at once included), so a 4xx carries them too.
 */
async function authenticatedRead(
  request: GatewayRequest,
  deps: GatewayDeps,
  record: RequestRecord,
  extra: ExtraHeaders,
  answer: (principal: Principal) => GatewayResponse | Promise<GatewayResponse>,
): Promise<GatewayResponse> {
  const principal = await authenticate(request, deps, record);
  const limits = describeLimits(principal, deps, extra);
  try {
    return await answer(principal);
  } finally {
    await limits;
  }
}

type CallHandler = (
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  record: RequestRecord,
) => Promise<GatewayResponse>;

/** The doors that make a completion call: counted against the rate limits, held, billed. */
const CALL_ENDPOINTS: Partial<Record<string, CallHandler>> = {
  "/v1/chat/completions": handleChatCompletions,
  "/v1/messages": handleMessages,
  "/v1/responses": handleResponses,
  "/v1/embeddings": handleEmbeddings,
};

const MODEL_PATH = /^\/v1\/models\/(.+)$/;
/** Model ids contain a slash (`openai/gpt-4.1`), so `author/slug` is matched as one id. */
const MODEL_ENDPOINTS_PATH = /^\/v1\/models\/(.+)\/endpoints$/;
const PUBLIC_MODEL_ENDPOINTS_PATH = /^\/api\/v1\/models\/(.+)\/endpoints$/;

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
  "/v1/activity": handleActivity,
};

let openApiDocument: Record<string, unknown> | undefined;

/** A client's own request id is kept when it is a sane token, so its logs and ours line up. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

function requestIdFor(request: GatewayRequest, deps: GatewayDeps): string {
  const offered = request.headers["x-request-id"];
  return offered !== undefined && CLIENT_REQUEST_ID.test(offered) ? offered : `req-${deps.newGenerationId().slice(4)}`;
}

/** Longest header value copied into a log line. */
const MAX_LOGGED_HEADER = 200;

function loggedHeader(value: string | undefined): string | null {
  return value === undefined ? null : value.slice(0, MAX_LOGGED_HEADER);
}

/** The route a path is served by, as a metric label: every model id under one `{id}`, unknown paths as `other`. */
function endpointOf(path: string): string {
  if (CALL_ENDPOINTS[path] !== undefined || GET_ENDPOINTS[path] !== undefined) return path;
  if (path === "/v1/messages/count_tokens" || path === "/v1/openapi.json" || path === "/api/v1/models") return path;
  if (PUBLIC_MODEL_ENDPOINTS_PATH.test(path)) return "/api/v1/models/{id}/endpoints";
  if (MODEL_ENDPOINTS_PATH.test(path)) return "/v1/models/{id}/endpoints";
  if (MODEL_PATH.test(path)) return "/v1/models/{id}";
  return "other";
}

function recordOf(request: GatewayRequest, deps: GatewayDeps): RequestRecord {
  const { headers } = request;
  return {
    requestId: requestIdFor(request, deps),
    method: request.method,
    path: request.path,
    endpoint: endpointOf(request.path),
    startedAt: deps.clock(),
    clientAddress: request.clientAddress ?? null,
    forwardedFor: loggedHeader(headers["x-forwarded-for"]),
    userAgent: loggedHeader(headers["user-agent"]),
    trace: readTraceContext(headers),
    principal: null,
    callAdmitted: false,
  };
}

/** JSON bodies only: `application/json`, with or without parameters, or any `+json` type. */
function requireJson(request: GatewayRequest): void {
  const contentType = request.headers["content-type"];
  const mediaType = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  if (mediaType === "application/json" || mediaType?.endsWith("+json") === true) return;
  throw errors.unsupportedContentType(contentType);
}

async function route(
  request: GatewayRequest,
  deps: GatewayDeps,
  record: RequestRecord,
  extra: ExtraHeaders,
): Promise<GatewayResponse> {
  const { method, path } = request;
  if (request.bodyOverLimit !== undefined) {
    const error = errors.payloadTooLarge(request.bodyOverLimit);
    // The rest of the upload was not read: close the connection after answering.
    error.headers.connection = "close";
    throw error;
  }
  const completion = CALL_ENDPOINTS[path];
  if (completion !== undefined) {
    if (method !== "POST") throw errors.methodNotAllowed(["POST"]);
    const principal = await authenticate(request, deps, record);
    // Unlimited keys (the common case) skip the limiter: no counting, no wrapped stream, constant headers.
    if (!isLimited(principal.rateLimits)) {
      Object.assign(extra, UNLIMITED_REQUEST_HEADERS);
      requireJson(request);
      return completion(request, principal, deps, record);
    }
    const release = await admitCall(principal, deps, extra);
    let response: GatewayResponse;
    try {
      requireJson(request);
      response = await completion(request, principal, deps, record);
    } catch (error) {
      void release();
      throw error;
    }
    const limitsConcurrency =
      principal.rateLimits.key.concurrentRequests !== null || principal.rateLimits.account.concurrentRequests !== null;
    if (limitsConcurrency) return { ...response, body: releaseWhenFinished(response.body, release, request.signal) };
    // No slot is held without a concurrency limit: nothing to keep until the stream ends.
    void release();
    return response;
  }
  if (path === "/v1/messages/count_tokens") {
    if (method !== "POST") throw errors.methodNotAllowed(["POST"]);
    return authenticatedRead(request, deps, record, extra, (principal) => {
      requireJson(request);
      return handleCountTokens(request, principal, deps);
    });
  }
  if (path === "/v1/openapi.json") {
    // Public: the document describes the API, it reveals nothing about an account.
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return jsonResponse(200, (openApiDocument ??= buildOpenApiDocument()));
  }
  // The public catalog: no key, the same for everyone.
  if (path === "/api/v1/models") {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return handlePublicModels(request, deps);
  }
  const publicEndpointsMatch = PUBLIC_MODEL_ENDPOINTS_PATH.exec(path);
  if (publicEndpointsMatch !== null) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return handlePublicModelEndpoints(deps, decodeURIComponent(publicEndpointsMatch[1] ?? ""));
  }
  const read = GET_ENDPOINTS[path];
  if (read !== undefined) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return authenticatedRead(request, deps, record, extra, (principal) => read(request, principal, deps));
  }
  const endpointsMatch = MODEL_ENDPOINTS_PATH.exec(path);
  if (endpointsMatch !== null) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return authenticatedRead(request, deps, record, extra, (principal) =>
      handleModelEndpoints(principal, deps, decodeURIComponent(endpointsMatch[1] ?? "")),
    );
  }
  const modelMatch = MODEL_PATH.exec(path);
  if (modelMatch !== null) {
    if (method !== "GET") throw errors.methodNotAllowed(["GET"]);
    return authenticatedRead(request, deps, record, extra, (principal) =>
      handleGetModel(principal, deps, decodeURIComponent(modelMatch[1] ?? "")),
    );
  }
  throw errors.routeNotFound(method, path);
}

export function createGateway(deps: GatewayDeps): Gateway {
  return {
    publicCatalog: {
      list: () => listPublicModels(deps),
      endpoints(id) {
        const model = findPublicModel(deps, id);
        return model === undefined ? undefined : renderModelEndpoints(model, deps);
      },
    },
    async handle(request) {
      const record = recordOf(request, deps);
      const { requestId } = record;
      const extra: ExtraHeaders = {};
      let response: GatewayResponse;
      let failure: GatewayError | null = null;
      try {
        response = await route(request, deps, record, extra);
      } catch (error) {
        failure = error instanceof GatewayError ? error : errors.internal();
        if (!(error instanceof GatewayError)) {
          deps.logger.error("unhandled gateway error", { error, path: request.path, requestId });
        }
        // Each door answers errors in its own API's shape, which its clients' SDKs parse.
        response = isAnthropicDoor(request.path) ? anthropicErrorResponse(failure) : failure.toResponse();
      }
      for (const [name, value] of Object.entries(extra)) response.headers[name] ??= value;
      response.headers["x-request-id"] = requestId;
      // An admitted call is reported by its settlement, which for a stream comes after these headers.
      if (!record.callAdmitted) deps.observer.requestAnswered(record, response.status, failure);
      return response;
    },
  };
}
