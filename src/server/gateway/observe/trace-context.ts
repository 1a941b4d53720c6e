/**
 * W3C Trace Context (`traceparent`, `tracestate`) as a client or a proxy in front sent it. The gateway creates no
 * spans of its own (it exports none), so it forwards the context unchanged to the upstream and logs its trace id:
 * the call then sits in the caller's trace, and its log line can be found from it.
 */
export interface TraceContext {
  traceparent: string;
  /** Vendor data riding with the trace; forwarded only beside a valid `traceparent`, as the spec asks. */
  tracestate: string | null;
  traceId: string;
  /** The caller's span: the parent of whatever the upstream records. */
  parentSpanId: string;
}

/** version-traceid-parentid-flags, lower-case hex; version ff is invalid, and later versions may append fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;
/** The spec lets a receiver drop a tracestate longer than this. */
const MAX_TRACESTATE_LENGTH = 512;

/** The request's trace context, or null when it has none or a malformed one (which the spec says to ignore). */
export function readTraceContext(headers: Readonly<Record<string, string | undefined>>): TraceContext | null {
  const traceparent = headers.traceparent?.trim();
  if (traceparent === undefined) return null;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return null;
  const [, version, traceId, parentSpanId, , rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (ALL_ZEROS.test(traceId!) || ALL_ZEROS.test(parentSpanId!)) return null;
  const tracestate = headers.tracestate?.trim();
  return {
    traceparent,
    tracestate:
      tracestate === undefined || tracestate === "" || tracestate.length > MAX_TRACESTATE_LENGTH ? null : tracestate,
    traceId: traceId!,
    parentSpanId: parentSpanId!,
  };
}

/** The headers that carry the context on to the upstream. */
export function traceHeaders(trace: TraceContext): Record<string, string> {
  return trace.tracestate === null
    ? { traceparent: trace.traceparent }
    : { traceparent: trace.traceparent, tracestate: trace.tracestate };
}
