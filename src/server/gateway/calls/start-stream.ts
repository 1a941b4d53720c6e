import { errors, GatewayError } from "../errors";
import type { Clock } from "../clock";
import { UpstreamTimeoutError, type SseEvent, type StreamItem } from "../providers/types";
import { parseSse } from "../sse/parse-sse";
import type { OpenedUpstream } from "./failover";
import { CallFailure } from "./call-failure";

/** An upstream stream read up to the start of its answer: what was read is replayed before the rest. */
export interface StartedStream extends OpenedUpstream {
  head: SseEvent[][];
  reads: AsyncIterator<SseEvent[]>;
  /** When the first chunk of the answer arrived (gateway clock). */
  answerStartedAt: number;
}

/** Reads kept before a stream counts as answering anyway: a bound on what is buffered. */
const MAX_HEAD_READS = 64;

/**
 * A chunk that gives the client part of an answer (text, reasoning, a refusal, a tool call, a finish); a role-only
 * or usage-only chunk does not.
 */
function beginsAnswer(item: StreamItem): boolean {
  if (item.type !== "chunk") return item.type === "done";
  return item.chunk.choices.some(({ delta, finish_reason }) => {
    if (finish_reason != null) return true;
    const { content, reasoning, refusal, tool_calls } = delta as {
      content?: unknown;
      reasoning?: unknown;
      refusal?: unknown;
      tool_calls?: unknown;
    };
    const text = (value: unknown) => typeof value === "string" && value !== "";
    return text(content) || text(reasoning) || text(refusal) || (Array.isArray(tool_calls) && tool_calls.length > 0);
  });
}

/**
 * Reads an opened stream until the first chunk of its answer, so that a provider refusing in-band after an HTTP 200
 * (Anthropic's `overloaded_error` event after `message_start`, OpenRouter's error chunk, a rate limit), dying, or
 * ending before it produced anything fails like a refusal in the headers would: failover can still try the next
 * candidate, since nothing of an answer has reached the client. The events are checked with a transformer of their
 * own; the stream translates them again with its own.
 */
export async function startStream(opened: OpenedUpstream, signal: AbortSignal, clock: Clock): Promise<StartedStream> {
  const reads = parseSse(opened.upstream.body)[Symbol.asyncIterator]();
  const probe = opened.binding.adapter.createStreamTransformer();
  const head: SseEvent[][] = [];
  const started = (): StartedStream => ({ ...opened, head, reads, answerStartedAt: clock() });
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
    if (read.done === true) {
      throw new CallFailure(
        errors.upstreamFailed("The upstream provider ended the stream before it began its answer."),
        "upstream_stream_failed",
      );
    }
    head.push(read.value);
    for (const event of read.value) {
      for (const item of probe(event)) {
        if (beginsAnswer(item)) return started();
        if (item.type !== "error") continue;
        // Nothing of this stream will be read: let go of its connection.
        void reads.return?.(undefined).catch(() => {});
        const { status, type, code, message, param } = item.error;
        // Clients time their retries by Retry-After, which an in-band refusal does not carry.
        const headers: Record<string, string> = status === 429 || status === 503 ? { "retry-after": "1" } : {};
        const error = new GatewayError(status, type as GatewayError["type"], code, message, param, headers);
        throw new CallFailure(error, type, false, status);
      }
    }
    if (head.length >= MAX_HEAD_READS) return started();
  }
}
