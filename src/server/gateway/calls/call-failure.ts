import { errors, type GatewayError } from "../errors";
import { UpstreamTimeoutError, type UpstreamErrorInfo } from "../providers/types";
import { CLIENT_CLOSED_REQUEST, type CallContext } from "./call-context";

/**
 * An upstream call that produced no answer. Not settled where it is raised: a single call settles it at once, a
 * fan-out settles once for all its copies.
 */
export class CallFailure extends Error {
  constructor(
    /** What the client is told. */
    readonly error: GatewayError,
    /** What the generation records (`upstream_timeout`, `client_disconnected`, the upstream's error type, …). */
    readonly errorType: string,
    readonly cancelled = false,
    /** The upstream's own HTTP status, when it answered with an error. */
    readonly upstreamStatus: number | null = null,
    /** How long the upstream asked callers to wait (its `Retry-After`), in milliseconds. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(error.message);
    this.name = "CallFailure";
  }

  get httpStatus(): number {
    return this.cancelled ? CLIENT_CLOSED_REQUEST : this.error.status;
  }
}

/** A stream whose upstream ended before finishing (no [DONE], no finish reason). */
export const STREAM_ENDED_EARLY: UpstreamErrorInfo = {
  status: 502,
  type: "upstream_error",
  code: "upstream_stream_incomplete",
  message: "The upstream provider ended the stream early.",
  param: null,
};

/**
 * What a streamed call that threw after its response was committed tells the client, and the error type it is
 * recorded with; null when the client itself went away (nobody to tell, and the call counts as cancelled).
 */
export function streamFailure(
  context: CallContext,
  error: unknown,
  signal: AbortSignal,
): { failure: UpstreamErrorInfo; errorType: string | null } | null {
  if (error instanceof CallFailure) {
    // The upstream gave no answer after the response was committed (the client leaving is one way).
    if (error.cancelled) return null;
    const { type, code, message, param } = error.error;
    return { failure: { status: error.httpStatus, type, code, message, param }, errorType: error.errorType };
  }
  if (signal.aborted) return null;
  if (error instanceof UpstreamTimeoutError) {
    // Silence past the idle limit, or the call's total limit: the client keeps what it received, and pays for that.
    context.deps.logger.warn("upstream timed out mid-stream", { channel: context.endpoint.channel.name });
    const { status, type, code, message, param } = errors.upstreamTimeout();
    return { failure: { status, type, code, message, param }, errorType: "upstream_timeout" };
  }
  context.deps.logger.warn("upstream stream failed", { channel: context.endpoint.channel.name, error });
  return {
    failure: {
      status: 502,
      type: "upstream_error",
      code: "upstream_stream_failed",
      message: "The upstream provider failed mid-stream.",
      param: null,
    },
    errorType: null,
  };
}
