import { errors, GatewayError } from "../errors";
import { UpstreamTimeoutError, type SseEvent } from "../providers/types";
import { parseSse } from "../sse/parse-sse";
import type { OpenedUpstream } from "./failover";
import { CallFailure } from "./upstream-call";

/** An upstream stream read up to the start of its answer: what was read is replayed before the rest. */
export interface StartedStream extends OpenedUpstream {
  head: SseEvent[][];
  reads: AsyncIterator<SseEvent[]>;
  /** The reads above already reached the end of the stream. */
  ended: boolean;
}

/**
 * Reads an opened stream until its first answer chunk (or its end), so that a provider refusing in-band after an HTTP
 * 200 (Anthropic's `overloaded_error` event, a rate limit) or dying before it produced anything fails like a refusal
 * in the headers would: failover can still try the next candidate, since nothing of an answer has reached the client.
 * The events are checked with a transformer of their own; the stream translates them again with its own.
 */
export async function startStream(opened: OpenedUpstream, signal: AbortSignal): Promise<StartedStream> {
  const reads = parseSse(opened.upstream.body)[Symbol.asyncIterator]();
  const probe = opened.binding.adapter.createStreamTransformer();
  const head: SseEvent[][] = [];
  for (;;) {
    let read: IteratorResult<SseEvent[]>;
    try {
      read = await reads.next();
    } catch (error) {
      if (signal.aborted) throw new CallFailure(errors.clientDisconnected(), "client_disconnected", true);
      if (error instanceof UpstreamTimeoutError) throw new CallFailure(errors.upstreamTimeout(), "upstream_timeout");
      throw new CallFailure(
        errors.upstreamFailed("The upstream provider failed before it began its answer."),
        "upstream_stream_failed",
      );
    }
    if (read.done === true) return { ...opened, head, reads, ended: true };
    head.push(read.value);
    for (const event of read.value) {
      const [item] = probe(event);
      if (item === undefined) continue;
      if (item.type !== "error") return { ...opened, head, reads, ended: false };
      // Nothing of this stream will be read: let go of its connection.
      void reads.return?.(undefined).catch(() => {});
      const { status, type, code, message, param } = item.error;
      // Clients time their retries by Retry-After, which an in-band refusal does not carry.
      const headers: Record<string, string> = status === 429 || status === 503 ? { "retry-after": "1" } : {};
      const error = new GatewayError(status, type as GatewayError["type"], code, message, param, headers);
      throw new CallFailure(error, type, false, status);
    }
  }
}
