import { describe, expect, it } from "vitest";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import { fixture } from "../../../../../helpers/fixtures";

const adapter = createAnthropicAdapter();

const body = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message } });

describe("parseError", () => {
  it("passes a recorded invalid_request_error on as a 400 with Anthropic's message", () => {
    const recorded = fixture("anthropic/error-400-invalid-request");
    expect(adapter.parseError(recorded.status, recorded.body)).toEqual({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_request",
      message: "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium.",
      param: null,
    });
  });

  it("passes a recorded not_found_error on as a 404", () => {
    const recorded = fixture("anthropic/error-404-not-found");
    expect(adapter.parseError(recorded.status, recorded.body)).toEqual({
      status: 404,
      type: "not_found_error",
      code: "not_found",
      message: "model: claude-sonet-4-5",
      param: null,
    });
  });

  it("turns overloaded_error (529) into a retryable 503", () => {
    expect(adapter.parseError(529, body("overloaded_error", "Overloaded"))).toEqual({
      status: 503,
      type: "service_unavailable",
      code: "upstream_overloaded",
      message: "The upstream provider is overloaded. Please retry.",
      param: null,
    });
  });

  it("passes rate_limit_error on as a 429", () => {
    expect(
      adapter.parseError(429, body("rate_limit_error", "Number of request tokens has exceeded your rate limit")),
    ).toEqual({
      status: 429,
      type: "rate_limit_error",
      code: "rate_limited",
      message: "Number of request tokens has exceeded your rate limit",
      param: null,
    });
  });

  it.each([
    [401, "authentication_error", "invalid x-api-key sk-ant-api03-SECRET"],
    [403, "permission_error", "Your API key sk-ant-api03-SECRET does not have permission"],
  ])("treats %i %s as a broken channel: 502, and never the upstream's words", (status, type, message) => {
    const info = adapter.parseError(status, body(type, message));
    expect(info).toEqual({
      status: 502,
      type: "upstream_error",
      code: "upstream_auth_failed",
      message: "The upstream provider rejected the gateway's credentials.",
      param: null,
    });
    expect(JSON.stringify(info)).not.toContain("SECRET");
  });

  it("masks server errors and bodies that are not Anthropic's envelope", () => {
    expect(adapter.parseError(500, body("api_error", "Internal server error at node 12"))).toMatchObject({
      status: 502,
      code: "upstream_error",
      message: "The upstream provider failed to answer. Please retry.",
    });
    expect(adapter.parseError(502, "<html>Bad gateway</html>")).toMatchObject({ status: 502, type: "upstream_error" });
    expect(adapter.parseError(400, "not json")).toMatchObject({
      status: 400,
      message: "The upstream provider rejected the request.",
    });
  });
});
