import type { UpstreamErrorInfo } from "./types";

/**
 * What a client is told when an upstream refuses or fails a call, shared by every adapter: each adapter reads its
 * provider's error format and its special cases, then lands on one of these. The rule everywhere: messages of request
 * errors (4xx the client caused) are passed on, everything else is masked, and the upstream's text is never shown
 * when the gateway's own credentials or account are at fault (it can quote the key).
 */
export const upstreamError = {
  /** The channel's own key was refused: the client's request is fine, the gateway's configuration is not. */
  authFailed: (): UpstreamErrorInfo => ({
    status: 502,
    type: "upstream_error",
    code: "upstream_auth_failed",
    message: "The upstream provider rejected the gateway's credentials.",
    param: null,
  }),
  rateLimited: (message: string | null, code: string | null = null): UpstreamErrorInfo => ({
    status: 429,
    type: "rate_limit_error",
    code: code ?? "rate_limited",
    message: message ?? "The upstream provider is rate limiting requests. Please retry later.",
    param: null,
  }),
  /** The upstream (or a proxy before it) gave up waiting: worth retrying, not a broken request. */
  timedOut: (status: 408 | 504): UpstreamErrorInfo => ({
    status,
    type: "timeout_error",
    code: "upstream_timeout",
    message: "The upstream provider timed out. Please retry.",
    param: null,
  }),
  notFound: (message: string | null, code: string | null = null, param: string | null = null): UpstreamErrorInfo => ({
    status: 404,
    type: "not_found_error",
    code: code ?? "not_found",
    message: message ?? "The upstream provider could not find the requested resource.",
    param,
  }),
  invalidRequest: (
    status: number,
    message: string | null,
    code: string | null = null,
    param: string | null = null,
  ): UpstreamErrorInfo => ({
    status,
    type: "invalid_request_error",
    code: code ?? "invalid_request",
    message: message ?? "The upstream provider rejected the request.",
    param,
  }),
  failed: (code = "upstream_error"): UpstreamErrorInfo => ({
    status: 502,
    type: "upstream_error",
    code,
    message: "The upstream provider failed to answer. Please retry.",
    param: null,
  }),
};

/** What an upstream said about an error, in whatever format it uses. */
export interface UpstreamErrorDetail {
  message: string | null;
  code: string | null;
  param: string | null;
}

/** The common mapping from an upstream HTTP status (and what it said) to what the client is told. */
export function upstreamErrorForStatus(status: number, detail: UpstreamErrorDetail): UpstreamErrorInfo {
  if (status === 401 || status === 403) return upstreamError.authFailed();
  if (status === 429) return upstreamError.rateLimited(detail.message, detail.code);
  if (status === 408 || status === 504) return upstreamError.timedOut(status);
  if (status === 404) return upstreamError.notFound(detail.message, detail.code, detail.param);
  if (status >= 400 && status < 500) {
    const passed = status === 413 || status === 422 ? status : 400;
    return upstreamError.invalidRequest(passed, detail.message, detail.code, detail.param);
  }
  return upstreamError.failed();
}
