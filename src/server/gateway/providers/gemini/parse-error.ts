import { z } from "zod";
import type { UpstreamErrorInfo } from "../types";
import { geminiErrorSchema, type GeminiError } from "./gemini-types";

const errorBodySchema = z.looseObject({ error: geminiErrorSchema });

/** Gemini answers 400 INVALID_ARGUMENT (not 401) to a bad key; that is the gateway's fault, not the client's. */
function isCredentialProblem(error: GeminiError | undefined): boolean {
  if (error === undefined) return false;
  if (error.details?.some((detail) => detail.reason === "API_KEY_INVALID" || detail.reason === "API_KEY_EXPIRED")) {
    return true;
  }
  return /API key (not valid|expired|not found)/i.test(error.message ?? "");
}

/**
 * A google.rpc.Status error (HTTP status plus `{error:{code,message,status}}`) → what the client is told. Messages
 * of request errors are passed on; server-side failures and problems with the gateway's own credentials or account
 * are masked, as for every provider.
 */
export function toUpstreamError(status: number, error: GeminiError | undefined): UpstreamErrorInfo {
  const upstreamMessage = error?.message ?? null;
  const code = error?.status ? error.status.toLowerCase() : null;
  if (status === 401 || status === 403 || isCredentialProblem(error)) {
    return {
      status: 502,
      type: "upstream_error",
      code: "upstream_auth_failed",
      message: "The upstream provider rejected the gateway's credentials.",
      param: null,
    };
  }
  if (status === 429) {
    return {
      status: 429,
      type: "rate_limit_error",
      code: code ?? "rate_limited",
      message: upstreamMessage ?? "The upstream provider is rate limiting requests. Please retry later.",
      param: null,
    };
  }
  if (status === 408 || status === 504) {
    return {
      status,
      type: "timeout_error",
      code: "upstream_timeout",
      message: "The upstream provider timed out. Please retry.",
      param: null,
    };
  }
  if (status === 404) {
    return {
      status: 404,
      type: "not_found_error",
      code: /\bmodels\/\S+ is not found/.test(upstreamMessage ?? "") ? "model_not_found" : (code ?? "not_found"),
      message: upstreamMessage ?? "The upstream provider could not find the requested resource.",
      param: null,
    };
  }
  if (status === 400 && error?.status === "FAILED_PRECONDITION") {
    // Gemini's word for "this account cannot be served" (region, billing): nothing the client can change.
    return {
      status: 502,
      type: "upstream_error",
      code: "upstream_unavailable",
      message: "The upstream provider refused to serve the gateway's account.",
      param: null,
    };
  }
  if (status >= 400 && status < 500) {
    return {
      status: status === 413 ? 413 : 400,
      type: "invalid_request_error",
      code: code ?? "invalid_request",
      message: upstreamMessage ?? "The upstream provider rejected the request.",
      param: null,
    };
  }
  return {
    status: 502,
    type: "upstream_error",
    code: "upstream_error",
    message: "The upstream provider failed to answer. Please retry.",
    param: null,
  };
}

export function parseGeminiError(status: number, bodyText: string): UpstreamErrorInfo {
  let error: GeminiError | undefined;
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) error = parsed.data.error;
  } catch {
    // Not JSON (a proxy's HTML page): judged by the status alone.
  }
  return toUpstreamError(status, error);
}

/**
 * An error Gemini sends inside a stream that has already answered 200. Its `code` is the HTTP status it would have
 * had; a request error this late is still the upstream failing the call.
 */
export function parseStreamError(error: GeminiError): UpstreamErrorInfo {
  const status = typeof error.code === "number" && error.code >= 400 && error.code < 600 ? error.code : 500;
  const info = toUpstreamError(status, error);
  if (info.type === "upstream_error" && info.code === "upstream_error") {
    return { ...info, message: "The upstream provider failed mid-stream." };
  }
  return info;
}
