import { z } from "zod";
import type { UpstreamErrorInfo } from "../types";
import { upstreamError } from "../upstream-error";

/** Anthropic's error envelope: `{"type":"error","error":{"type","message"},"request_id"}`, also sent as an SSE event. */
export const anthropicErrorBodySchema = z.looseObject({
  error: z.looseObject({ type: z.string().nullish(), message: z.string().nullish() }),
});

/** Anthropic answers 529 when it is overloaded (HTTP has no such status; it is retryable like a 503). */
const OVERLOADED_STATUS = 529;

const OVERLOADED: UpstreamErrorInfo = {
  status: 503,
  type: "service_unavailable",
  code: "upstream_overloaded",
  message: "The upstream provider is overloaded. Please retry.",
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
    return upstreamError.authFailed();
  }
  if (status === OVERLOADED_STATUS || status === 503 || type === "overloaded_error") return { ...OVERLOADED };
  if (status === 429 || type === "rate_limit_error") return upstreamError.rateLimited(message);
  if (status === 408 || status === 504 || type === "timeout_error") {
    return upstreamError.timedOut(status === 408 ? 408 : 504);
  }
  if (status === 402 || type === "billing_error") {
    // The channel's account cannot pay: like a refused key, the gateway's problem, not the client's.
    return upstreamError.failed("upstream_billing_error");
  }
  if (status === 404 || type === "not_found_error") return upstreamError.notFound(message);
  if (status === 413 || type === "request_too_large") {
    return upstreamError.invalidRequest(
      413,
      message ?? "The request is too large for the upstream provider.",
      "request_too_large",
    );
  }
  if ((status !== null && status >= 400 && status < 500) || type === "invalid_request_error") {
    return upstreamError.invalidRequest(400, message);
  }
  return upstreamError.failed();
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
