import { z } from "zod";
import type { UpstreamErrorInfo } from "../types";

/** Anthropic's error envelope: `{"type":"error","error":{"type","message"},"request_id"}`, also sent as an SSE event. */
export const anthropicErrorBodySchema = z.looseObject({
  error: z.looseObject({ type: z.string().nullish(), message: z.string().nullish() }),
});

/** Anthropic answers 529 when it is overloaded (HTTP has no such status; it is retryable like a 503). */
const OVERLOADED_STATUS = 529;

const AUTH_FAILED: UpstreamErrorInfo = {
  status: 502,
  type: "upstream_error",
  code: "upstream_auth_failed",
  // Never the upstream's text: it can quote the channel's key or account.
  message: "The upstream provider rejected the gateway's credentials.",
  param: null,
};

const OVERLOADED: UpstreamErrorInfo = {
  status: 503,
  type: "service_unavailable",
  code: "upstream_overloaded",
  message: "The upstream provider is overloaded. Please retry.",
  param: null,
};

const FAILED: UpstreamErrorInfo = {
  status: 502,
  type: "upstream_error",
  code: "upstream_error",
  message: "The upstream provider failed to answer. Please retry.",
  param: null,
};

/**
 * One Anthropic error as the client should see it. `status` is the HTTP status when the error came as a response,
 * null when it came as an `error` event inside a stream (then only its type tells what happened).
 */
export function describeAnthropicError(
  status: number | null,
  type: string | null | undefined,
  upstreamMessage: string | null | undefined,
): UpstreamErrorInfo {
  const message = upstreamMessage ?? null;
  if (status === 401 || status === 403 || type === "authentication_error" || type === "permission_error") {
    // The channel's own key was refused: the client's request is fine, the gateway's configuration is not.
    return { ...AUTH_FAILED };
  }
  if (status === OVERLOADED_STATUS || status === 503 || type === "overloaded_error") return { ...OVERLOADED };
  if (status === 429 || type === "rate_limit_error") {
    return {
      status: 429,
      type: "rate_limit_error",
      code: "rate_limited",
      message: message ?? "The upstream provider is rate limiting requests. Please retry later.",
      param: null,
    };
  }
  if (status === 408 || status === 504 || type === "timeout_error") {
    return {
      status: status === 408 ? 408 : 504,
      type: "timeout_error",
      code: "upstream_timeout",
      message: "The upstream provider timed out. Please retry.",
      param: null,
    };
  }
  if (status === 402 || type === "billing_error") {
    // The channel's account cannot pay: like a refused key, the gateway's problem, not the client's.
    return { ...FAILED, code: "upstream_billing_error" };
  }
  if (status === 404 || type === "not_found_error") {
    return {
      status: 404,
      type: "not_found_error",
      code: "not_found",
      message: message ?? "The upstream provider could not find the requested resource.",
      param: null,
    };
  }
  if (status === 413 || type === "request_too_large") {
    return {
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
      message: message ?? "The request is too large for the upstream provider.",
      param: null,
    };
  }
  if ((status !== null && status >= 400 && status < 500) || type === "invalid_request_error") {
    return {
      status: 400,
      type: "invalid_request_error",
      code: "invalid_request",
      message: message ?? "The upstream provider rejected the request.",
      param: null,
    };
  }
  return { ...FAILED };
}

function readErrorBody(bodyText: string): { type: string | null; message: string | null } {
  try {
    const parsed = anthropicErrorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) return { type: parsed.data.error.type ?? null, message: parsed.data.error.message ?? null };
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): judged by the status alone.
  }
  return { type: null, message: null };
}

/** An error response from the Messages API. Request errors keep Anthropic's message; everything else is masked. */
export function parseAnthropicError(status: number, bodyText: string): UpstreamErrorInfo {
  const { type, message } = readErrorBody(bodyText);
  return describeAnthropicError(status, type, message);
}
