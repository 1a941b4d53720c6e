import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import type { Clock } from "~/server/gateway/clock";
import type { RequestObserver, RequestRecord } from "~/server/gateway/observe/request-record";
import type { LineBuffer } from "./line-buffer";

/**
 * The line's opening fields, in the shape of the JSON logger's lines (gateway/logger.ts), and those every request has.
 * Built as one literal of plain values and serialised without a replacer: this runs once per request.
 */
function requestFields(record: RequestRecord, clock: Clock) {
  const { principal, trace } = record;
  return {
    time: new Date(clock()).toISOString(),
    level: "info",
    message: "request",
    requestId: record.requestId,
    method: record.method,
    path: record.path,
    accountId: principal?.userId ?? null,
    // The prefix a customer sees on the keys page: never the key.
    keyPrefix: principal?.keyPrefix ?? null,
    clientIp: record.clientAddress,
    forwardedFor: record.forwardedFor,
    userAgent: record.userAgent,
    traceId: trace?.traceId ?? null,
    parentSpanId: trace?.parentSpanId ?? null,
  };
}

/**
 * One JSON line per /v1 request (message `request`, level info), written when the request is over: for a call, at
 * its settlement (a stream's end), with what it cost; otherwise when it was answered. What was asked and answered is
 * never logged, nor any key or secret. Lines go through `lines`, one write per turn of the event loop.
 */
export function createRequestLog(lines: LineBuffer, clock: Clock): RequestObserver {
  return {
    callAdmitted() {},
    callSettled(record, { generation, metered, channelName, attempts }) {
      const { usage } = metered;
      const entry = {
        ...requestFields(record, clock),
        status: generation.httpStatus,
        latencyMs: generation.latencyMs,
        ttftMs: generation.timeToFirstTokenMs ?? null,
        generationId: generation.id,
        model: generation.modelId,
        provider: generation.provider,
        channel: channelName,
        upstreamModel: generation.upstreamModel,
        attempts: Math.max(1, attempts.length),
        streamed: generation.streamed,
        cancelled: generation.cancelled ?? false,
        finishReason: generation.finishReason ?? null,
        errorType: generation.errorType ?? null,
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        cachedTokens: usage.cachedTokens,
        cacheWriteTokens: usage.cacheWriteTokens,
        reasoningTokens: usage.reasoningTokens,
        costUsd: formatNanoAsUsd(metered.costNano),
        billing: metered.billingStatus,
      };
      lines.push(`${JSON.stringify(entry)}\n`);
    },
    requestAnswered(record, status, error) {
      const entry = {
        ...requestFields(record, clock),
        status,
        latencyMs: Math.max(0, Math.round(clock() - record.startedAt)),
        errorCode: error?.code ?? null,
      };
      lines.push(`${JSON.stringify(entry)}\n`);
    },
  };
}
