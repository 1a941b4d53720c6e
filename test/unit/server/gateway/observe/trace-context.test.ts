import { describe, expect, it } from "vitest";
import { readTraceContext, traceHeaders } from "~/server/gateway/observe/trace-context";

const VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("readTraceContext", () => {
  it("reads W3C trace context and carries it on unchanged, tracestate included", () => {
    const trace = readTraceContext({ traceparent: VALID, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" });
    expect(trace).toEqual({
      traceparent: VALID,
      tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentSpanId: "00f067aa0ba902b7",
    });
    expect(traceHeaders(trace!)).toEqual({
      traceparent: VALID,
      tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    });
  });

  it("ignores what the spec says to ignore", () => {
    for (const traceparent of [
      "",
      "garbage",
      VALID.toUpperCase(),
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      `${VALID}-extra`,
    ]) {
      expect(readTraceContext({ traceparent }), traceparent).toBeNull();
    }
    expect(readTraceContext({ tracestate: "a=b" })).toBeNull();
  });

  it("accepts a later version's extra fields, and drops an oversized tracestate", () => {
    const later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
    expect(readTraceContext({ traceparent: later })?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    const trace = readTraceContext({ traceparent: VALID, tracestate: `a=${"x".repeat(600)}` });
    expect(trace?.tracestate).toBeNull();
    expect(traceHeaders(trace!)).toEqual({ traceparent: VALID });
  });
});
