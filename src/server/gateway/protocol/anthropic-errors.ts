import type { GatewayError } from "../errors";
import { jsonResponse, type GatewayResponse } from "../http";

/** Anthropic's error types by HTTP status: what its SDKs map to their exception classes. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 405:
    case 415:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 408:
    case 504:
      return "timeout_error";
    default:
      return "api_error";
  }
}

/**
 * A gateway error as Anthropic's API gives it: `{"type":"error","error":{"type","message"}}`. "No provider can take
 * the call now" is Anthropic's 529 overloaded, which its SDKs retry; every other status is kept, headers included
 * (`retry-after` on a 429).
 */
export function anthropicErrorResponse(error: GatewayError): GatewayResponse {
  const status = error.status === 503 ? 529 : error.status;
  return jsonResponse(
    status,
    { type: "error", error: { type: anthropicErrorType(error.status), message: error.message } },
    error.headers,
  );
}
