import { jsonResponse, type GatewayResponse } from "./http";

/** OpenAI's error `type` values, which the OpenAI SDKs and our clients branch on. */
export type GatewayErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "payment_required"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "upstream_error"
  | "service_unavailable"
  | "timeout_error"
  | "server_error";

/**
 * A coarse, stable classification for clients that branch on errors without parsing messages, sent as
 * `error.metadata.error_type` next to OpenAI's fields (OpenRouter's convention of extra detail under `metadata`).
 */
export type GatewayErrorKind =
  | "invalid_request"
  | "authentication"
  | "insufficient_credits"
  | "permission_denied"
  | "not_found"
  | "method_not_allowed"
  | "timeout"
  | "payload_too_large"
  | "rate_limited"
  | "client_disconnected"
  | "internal"
  | "provider_error"
  | "no_provider_available";

const KIND_BY_STATUS: Record<number, GatewayErrorKind> = {
  400: "invalid_request",
  401: "authentication",
  402: "insufficient_credits",
  403: "permission_denied",
  404: "not_found",
  405: "method_not_allowed",
  408: "timeout",
  413: "payload_too_large",
  415: "invalid_request",
  422: "invalid_request",
  429: "rate_limited",
  499: "client_disconnected",
  500: "internal",
  502: "provider_error",
  503: "no_provider_available",
  504: "timeout",
};

export function errorKindForStatus(status: number): GatewayErrorKind {
  return KIND_BY_STATUS[status] ?? (status >= 500 ? "provider_error" : "invalid_request");
}

export interface GatewayErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
    metadata: { error_type: GatewayErrorKind; [key: string]: unknown };
  };
}

/**
 * The one error type of the gateway. Rendered as OpenAI's `{"error":{"message","type","param","code"}}`, which makes
 * every OpenAI SDK raise its matching exception class, plus `metadata`.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: GatewayErrorType,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    readonly metadata: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "GatewayError";
  }

  get kind(): GatewayErrorKind {
    return errorKindForStatus(this.status);
  }

  toBody(): GatewayErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.code,
        metadata: { ...this.metadata, error_type: this.kind },
      },
    };
  }

  toResponse(): GatewayResponse {
    return jsonResponse(this.status, this.toBody(), this.headers);
  }
}

const INACTIVE_KEY_MESSAGES = {
  revoked: "This API key has been revoked. Use another key, or create a new one.",
  disabled: "This API key is disabled. Enable it again on the API keys page, or use another key.",
  expired: "This API key has expired. Give it a later expiry on the API keys page, or create a new key.",
};

export const errors = {
  invalidRequest: (message: string, param: string | null = null, code: string | null = "invalid_request") =>
    new GatewayError(400, "invalid_request_error", code, message, param),
  missingKey: () =>
    new GatewayError(
      401,
      "authentication_error",
      "missing_api_key",
      "No API key provided. Send it as `Authorization: Bearer sk-gw-…`.",
    ),
  invalidKey: () => new GatewayError(401, "authentication_error", "invalid_api_key", "Invalid API key provided."),
  /**
   * A key that exists but is refused: told only to whoever sent the whole key. Still 401 (as OpenAI answers a
   * deactivated key), with a code per state; null when the state is not known (`api_key_inactive`).
   */
  inactiveKey: (state: "revoked" | "disabled" | "expired" | "account_disabled" | null) =>
    state === null
      ? new GatewayError(401, "authentication_error", "api_key_inactive", "This API key is no longer active.")
      : state === "account_disabled"
        ? // The key is right; its account may not call (OpenAI answers a deactivated organisation alike).
          new GatewayError(
            403,
            "permission_error",
            "account_disabled",
            "This account is disabled. Contact support to have it enabled again.",
          )
        : new GatewayError(401, "authentication_error", `api_key_${state}`, INACTIVE_KEY_MESSAGES[state]),
  insufficientCredits: (message: string) => new GatewayError(402, "payment_required", "insufficient_credits", message),
  keyLimitExceeded: (message: string) => new GatewayError(402, "payment_required", "key_limit_exceeded", message),
  modelNotFound: (model: string) =>
    new GatewayError(
      404,
      "not_found_error",
      "model_not_found",
      `The model \`${model}\` does not exist or you do not have access to it. GET /v1/models lists the available models.`,
      "model",
    ),
  generationNotFound: (id: string) =>
    new GatewayError(
      404,
      "not_found_error",
      "generation_not_found",
      `No generation \`${id}\` was found for this account.`,
      "id",
    ),
  routeNotFound: (method: string, path: string) =>
    new GatewayError(404, "not_found_error", "unknown_url", `Unknown request URL: ${method} ${path}.`),
  methodNotAllowed: (allowed: string[]) =>
    new GatewayError(
      405,
      "invalid_request_error",
      "method_not_allowed",
      `Method not allowed. Use ${allowed.join(", ")}.`,
      null,
      {
        allow: allowed.join(", "),
      },
    ),
  unsupportedContentType: (contentType: string | undefined) =>
    new GatewayError(
      400,
      "invalid_request_error",
      "unsupported_content_type",
      `The request body must be JSON sent with \`content-type: application/json\`${
        contentType === undefined ? " (no content-type was sent)" : `, not \`${contentType}\``
      }.`,
    ),
  modelNotAllowed: (model: string) =>
    new GatewayError(403, "permission_error", "model_not_allowed", `This API key may not use \`${model}\`.`, "model"),
  /** The gateway's own limits (limits/); `headers` carries the `x-ratelimit-*` state. */
  rateLimitExceeded: (message: string, retryAfterSeconds: number, headers: Record<string, string> = {}) =>
    new GatewayError(429, "rate_limit_error", "rate_limit_exceeded", message, null, {
      ...headers,
      "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))),
    }),
  upstreamTimeout: () =>
    new GatewayError(
      408,
      "timeout_error",
      "upstream_timeout",
      "The upstream provider did not answer in time. Please retry.",
    ),
  payloadTooLarge: (limitBytes: number) =>
    new GatewayError(
      413,
      "invalid_request_error",
      "payload_too_large",
      `The request body is larger than the ${limitBytes}-byte limit.`,
    ),
  clientDisconnected: () =>
    new GatewayError(499, "invalid_request_error", "client_disconnected", "The client closed the request."),
  upstreamFailed: (message = "The upstream provider failed to answer. Please retry.") =>
    new GatewayError(502, "upstream_error", "upstream_error", message),
  noUpstream: (model: string, retryAfterSeconds = 30) =>
    new GatewayError(
      503,
      "service_unavailable",
      "no_upstream_available",
      `No upstream is currently available for \`${model}\`: every provider serving it is cooling down after failures. Retry in ${retryAfterSeconds} s.`,
      null,
      { "retry-after": String(retryAfterSeconds) },
    ),
  internal: () =>
    new GatewayError(500, "server_error", "internal_error", "The gateway failed unexpectedly. Please retry."),
};
