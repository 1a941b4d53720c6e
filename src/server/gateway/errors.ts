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

/** The one error type of the gateway. Rendered as OpenAI's `{"error":{"message","type","param","code"}}`. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: GatewayErrorType,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GatewayError";
  }

  toBody(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toResponse(): GatewayResponse {
    return jsonResponse(this.status, this.toBody(), this.headers);
  }
}

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
  insufficientCredits: (message: string) => new GatewayError(402, "payment_required", "insufficient_credits", message),
  modelNotFound: (model: string) =>
    new GatewayError(
      404,
      "not_found_error",
      "model_not_found",
      `The model \`${model}\` does not exist or you do not have access to it. GET /v1/models lists the available models.`,
      "model",
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
  noUpstream: (model: string) =>
    new GatewayError(
      503,
      "service_unavailable",
      "no_upstream_available",
      `No upstream is currently available for \`${model}\`.`,
      null,
      { "retry-after": "30" },
    ),
  internal: () =>
    new GatewayError(500, "server_error", "internal_error", "The gateway failed unexpectedly. Please retry."),
};
