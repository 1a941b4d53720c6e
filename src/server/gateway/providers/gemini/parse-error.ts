import { z } from "zod";
import type { UpstreamErrorInfo } from "../types";
import { upstreamError, upstreamErrorForStatus } from "../upstream-error";
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
  if (isCredentialProblem(error)) return upstreamError.authFailed();
  if (status === 404 && /\bmodels\/\S+ is not found/.test(upstreamMessage ?? "")) {
    return upstreamError.notFound(upstreamMessage, "model_not_found");
  }
  if (status === 400 && error?.status === "FAILED_PRECONDITION") {
    // Gemini's word for "this account cannot be served" (region, billing): nothing the client can change.
    return {
      ...upstreamError.failed("upstream_unavailable"),
      message: "The upstream provider refused to serve the gateway's account.",
    };
  }
  // Gemini's own fields name no request parameter.
  const info = upstreamErrorForStatus(status, { message: upstreamMessage, code, param: null });
  // 422 is not a Gemini status; its request errors are all 400 to the client.
  return info.status === 422 ? { ...info, status: 400 } : info;
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
