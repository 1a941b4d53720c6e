import { errors, GatewayError } from "../errors";
import type { ProviderBinding } from "../providers/registry";
import {
  UpstreamTimeoutError,
  type UpstreamErrorInfo,
  type UpstreamHttpRequest,
  type UpstreamResponse,
} from "../providers/types";
import { traceHeaders } from "../observe/trace-context";
import { CallFailure } from "./call-failure";
import type { CallContext } from "./call-context";

/** How long a client should wait before retrying a 429 or 503 when the upstream did not say. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** An upstream's `Retry-After` in whole seconds (it may be seconds or an HTTP date), or null when absent or bad. */
function retryAfterSeconds(header: string | string[] | undefined, now: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds) : null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

function toGatewayError(info: UpstreamErrorInfo, upstream: UpstreamResponse, now: number): GatewayError {
  const type = info.type as GatewayError["type"];
  const headers: Record<string, string> = {};
  if (info.status === 429 || info.status === 503) {
    // Clients time their retries by this header; pass the upstream's on, or give one.
    const seconds = retryAfterSeconds(upstream.headers["retry-after"], now) ?? DEFAULT_RETRY_AFTER_SECONDS;
    headers["retry-after"] = String(seconds);
  }
  return new GatewayError(info.status, type, info.code, info.message, info.param, headers);
}

/** Sends one request upstream and waits for its headers; every way of getting no answer becomes a CallFailure. */
export async function openUpstream(
  context: CallContext,
  binding: ProviderBinding,
  upstreamRequest: UpstreamHttpRequest,
  signal: AbortSignal,
): Promise<UpstreamResponse> {
  const { deps, endpoint } = context;
  let upstream: UpstreamResponse;
  try {
    const { trace } = context.request;
    // The caller's trace context goes on unchanged: the upstream's spans join the caller's trace.
    const sent =
      trace === null
        ? upstreamRequest
        : { ...upstreamRequest, headers: { ...upstreamRequest.headers, ...traceHeaders(trace) } };
    upstream = await binding.transport(sent, signal, { timeouts: endpoint.channel.timeouts });
  } catch (error) {
    if (signal.aborted) {
      // The client went away before the upstream answered: nothing was produced, nothing is billed.
      throw new CallFailure(errors.clientDisconnected(), "client_disconnected", true);
    }
    if (error instanceof UpstreamTimeoutError) {
      deps.logger.warn("upstream timed out", { channel: endpoint.channel.name });
      throw new CallFailure(errors.upstreamTimeout(), "upstream_timeout");
    }
    deps.logger.warn("upstream unreachable", { channel: endpoint.channel.name, error });
    throw new CallFailure(errors.upstreamFailed(), "upstream_unreachable");
  }

  if (upstream.status >= 400) {
    const text = await upstream.text().catch(() => "");
    const info = binding.adapter.parseError(upstream.status, text);
    deps.logger.info("upstream refused the request", {
      channel: endpoint.channel.name,
      upstreamStatus: upstream.status,
      status: info.status,
    });
    const retryAfter = retryAfterSeconds(upstream.headers["retry-after"], deps.clock());
    throw new CallFailure(
      toGatewayError(info, upstream, deps.clock()),
      info.type,
      false,
      upstream.status,
      retryAfter === null ? null : retryAfter * 1000,
    );
  }
  return upstream;
}
