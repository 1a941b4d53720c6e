import type { TokenUsage } from "../billing/compute-cost";
import { collectEmittedText, noEmittedText } from "../billing/meter-call";
import type { AnswerUsage, StreamEncoder, StreamFormat } from "../encoders/answer-encoder";
import type { GatewayResponse } from "../http";
import type { ChatCompletionChunk, ChatCompletionUsage } from "../protocol/chat-completion-response";
import { normaliseFinishReason } from "../protocol/finish-reason";
import { createStreamToolCallIds, toolCallIdMaker } from "../protocol/tool-call-ids";
import type { SseEvent, StreamItem, UpstreamErrorInfo } from "../providers/types";
import { keepAliveWhile, resumeWith } from "../sse/keep-alive";
import { CLIENT_CLOSED_REQUEST, responseHeaders, type CallContext } from "./call-context";
import { STREAM_ENDED_EARLY, streamFailure } from "./call-failure";
import type { OpenedStreams, StreamSource } from "./open-streams";
import { holdSettled, meter, settle } from "./settle-call";
import { sumTokenUsage, sumUsageObjects } from "./sum-usage";
import { answerIdentity } from "./whole-answer";

/** One upstream stream being relayed. */
interface SourceState {
  source: StreamSource;
  reads: AsyncIterator<SseEvent[]>;
  transform: (event: SseEvent) => StreamItem[];
  usage: TokenUsage | null;
  upstreamUsage: ChatCompletionUsage | null;
  finishReason: string | null;
  /** The upstream sent its end ([DONE] or its format's equivalent); the rest of its body is read behind. */
  completed: boolean;
  /** Its body was read to the end. */
  ended: boolean;
  /** A read of it is in flight. */
  reading: boolean;
}

type SourceRead = { copy: number; result: IteratorResult<SseEvent[]> } | { copy: number; error: unknown };

/** Reads an upstream body to its end, ignoring what it holds and any failure: its answer is already whole. */
async function readToEnd(reads: AsyncIterator<unknown>): Promise<void> {
  try {
    while ((await reads.next()).done !== true);
  } catch {
    // Nothing more was expected from it.
  }
}

/**
 * Relays an answer's upstream streams to the client in one door's format: the one streaming relay of the gateway.
 * `opening` is still pending when the response was committed before the upstream answered: the stream then opens
 * with keep-alive beats, and a failure to open becomes the format's in-band error. Each chunk is stamped with the
 * call's identity and normalised (finish reasons, tool call ids, a fan-out's choice indexes) before the encoder
 * sees it; what the client receives is counted for the bill; the call is settled once, however the stream ends
 * (finished, failed upstream, or abandoned by the client), and its hold is settled before the last bytes go out.
 * Everything one upstream read produces goes out as one write; the end goes out with the last chunks.
 */
export function relayStream(
  context: CallContext,
  opening: OpenedStreams | Promise<OpenedStreams>,
  format: StreamFormat,
  signal: AbortSignal,
): GatewayResponse {
  const { deps } = context;
  const keepAliveMs = deps.streamKeepAliveMs;

  async function* events(): AsyncGenerator<string> {
    let opened: OpenedStreams | null = null;
    let states: SourceState[] = [];
    let encoder: StreamEncoder | null = null;
    let upstreamId: string | null = null;
    let firstByteAt: number | null = null;
    let failure: UpstreamErrorInfo | null = null;
    // What the generation records when it differs from the type the client is told (`upstream_timeout`, …).
    let failureErrorType: string | null = null;
    let answered = false;
    let completed = false;
    let settled = false;
    // The identity is read once the call is opened: failover may have moved it to another model.
    const encoderNow = (): StreamEncoder => (encoder ??= format.encoder(answerIdentity(context)));

    const totalUsage = () => (states.length === 1 ? states[0]!.usage : sumTokenUsage(states.map((s) => s.usage)));
    // Exact only when every upstream call reported its usage; otherwise what the client received is counted.
    const everyCallReported = () => states.length > 0 && states.every((state) => state.usage !== null);
    const emitted = noEmittedText();
    // Priced as if the answer ends now, finished: only the end of a stream shows usage, and it is what settles.
    const usageNow = (): AnswerUsage => ({
      metered: meter(context, { usage: totalUsage(), completed: everyCallReported(), emitted }),
      upstream:
        states.length === 1 ? states[0]!.upstreamUsage : sumUsageObjects(states.map((state) => state.upstreamUsage)),
    });
    const finish = () => {
      if (settled) return;
      settled = true;
      for (const state of states) {
        // A body not being read and not read out is let go of; one with a read in flight is aborted below.
        if (!state.ended && !state.completed && !state.reading) void state.reads.return?.().catch(() => {});
      }
      opened?.close(states.some((state) => !state.ended && !state.completed));
      // Ended with no failure before the upstream answered: the client left while it waited.
      const leftWaiting = failure === null && !answered;
      settle(context, {
        httpStatus: failure !== null ? failure.status : leftWaiting ? CLIENT_CLOSED_REQUEST : 200,
        usage: totalUsage(),
        completed: completed && failure === null && everyCallReported(),
        emitted,
        finishReason: failure === null ? (states[0]?.finishReason ?? null) : "error",
        errorType: failureErrorType ?? failure?.type ?? (leftWaiting ? "client_disconnected" : null),
        upstreamId,
        cancelled: !completed && failure === null,
        firstByteAt,
      });
    };

    let out = "";
    // Choice indexes whose first delta has gone out.
    const announced = new Set<number>();
    // Keyed by the (merged) choice index, so a fan-out's copies never share an id's state.
    const giveToolCallIds = createStreamToolCallIds(toolCallIdMaker(deps.newGenerationId));
    const translate = (copy: number, state: SourceState, event: SseEvent, stream: StreamEncoder): void => {
      const copies = states.length;
      for (const item of state.transform(event)) {
        if (item.type === "done") {
          state.completed = true;
          return;
        }
        if (item.type === "error") {
          failure = item.error;
          return;
        }
        // The adapter hands over chunks it built for this call alone, so they are stamped in place.
        const chunk: ChatCompletionChunk = item.chunk;
        upstreamId ??= chunk.id || null;
        chunk.id = context.generationId;
        chunk.object = "chat.completion.chunk";
        chunk.created ||= Math.floor(context.startedAt / 1000);
        chunk.model = context.model.id;
        if (chunk.usage) {
          state.usage = state.source.adapter.parseUsage(chunk.usage) ?? state.usage;
          state.upstreamUsage = chunk.usage;
        }
        let finishing = false;
        for (const choice of chunk.choices) {
          // Each copy of a fan-out was asked for one choice, whose index is the copy's number; an upstream that
          // answers more choices anyway still gets a distinct index for each.
          if (copies > 1) choice.index = copy + copies * choice.index;
          // Clients learn the role from the first delta of each choice; not every provider sends it.
          if (!announced.has(choice.index)) {
            announced.add(choice.index);
            choice.delta.role ??= "assistant";
          }
          giveToolCallIds(choice);
          collectEmittedText(emitted, choice.delta);
          if (choice.finish_reason !== null) {
            choice.native_finish_reason ??= choice.finish_reason;
            choice.finish_reason = normaliseFinishReason(choice.finish_reason);
            state.finishReason ??= choice.finish_reason;
            finishing = true;
          }
        }
        out += stream.chunk(chunk, finishing && states.every((other) => other.finishReason !== null), usageNow);
      }
    };

    // One read in flight per source, its outcome (value or error) kept as a value: a read is never left rejected with
    // nobody listening, whichever way the stream ends. Finished reads queue up in the order they finished and wake
    // the loop; racing the pending reads anew on every turn would pile reactions onto a stalled source's read.
    const ready: SourceRead[] = [];
    let wake: (() => void) | null = null;
    const read = (copy: number) => {
      const state = states[copy]!;
      state.reading = true;
      void state.reads
        .next()
        .then(
          (result): SourceRead => ({ copy, result }),
          (error: unknown): SourceRead => ({ copy, error }),
        )
        .then((outcome) => {
          state.reading = false;
          ready.push(outcome);
          const resume = wake;
          wake = null;
          resume?.();
        });
    };
    const queuedRead = async (): Promise<SourceRead> => {
      while (ready.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      return ready.shift()!;
    };
    const live = (state: SourceState) => !state.ended && !state.completed;

    try {
      if (opening instanceof Promise) {
        // Committed before the upstream answered: the beat is the first byte, so clients and proxies see life.
        yield format.keepAlive;
        opened = yield* keepAliveWhile(opening, keepAliveMs, format.keepAlive);
      } else {
        opened = opening;
      }
      answered = true;
      states = opened.sources.map((source) => ({
        source,
        reads: resumeWith(source.head, source.reads)[Symbol.asyncIterator](),
        transform: source.adapter.createStreamTransformer(),
        usage: null,
        upstreamUsage: null,
        finishReason: null,
        completed: false,
        ended: false,
        reading: false,
      }));
      const stream = encoderNow();
      // A single stream was read up to its first chunk while opening (raced against keep-alive beats, as a model may
      // think for long before its first token); later reads get no timer, which would cost on the hot path. A
      // fan-out's copies are waited for with beats until the first event of any of them.
      firstByteAt = opened.answerStartedAt;
      // One stream that has begun its answer is read directly (a failed read throws to the catch below): the hot
      // path of every single call, with nothing to interleave and no timer.
      const direct = states.length === 1 && firstByteAt !== null;
      if (!direct) states.forEach((_, copy) => read(copy));
      while (states.some(live)) {
        let copy = 0;
        let result: IteratorResult<SseEvent[]>;
        if (direct) {
          result = await states[0]!.reads.next();
        } else {
          const next = queuedRead();
          const done = firstByteAt === null ? yield* keepAliveWhile(next, keepAliveMs, format.keepAlive) : await next;
          if ("error" in done) throw done.error;
          ({ copy, result } = done);
        }
        const state = states[copy]!;
        if (result.done === true) {
          state.ended = true;
          continue;
        }
        firstByteAt ??= deps.clock();
        for (const event of result.value) {
          translate(copy, state, event, stream);
          if (state.completed || failure !== null) break;
        }
        if (failure !== null) break;
        if (state.completed) {
          // The rest of the body (normally only its end) is read behind the answer, which keeps the connection for
          // the next call where abandoning the body would cut it.
          void readToEnd(state.reads);
        } else if (!direct) {
          read(copy);
        }
        // The end goes out in the same write as the last chunks.
        if (!states.some(live)) break;
        if (out !== "") {
          yield out;
          out = "";
        }
      }
      completed = failure === null && states.every((state) => state.completed || state.finishReason !== null);
      if (failure === null && !completed) failure = STREAM_ENDED_EARLY;
      out += failure === null ? stream.end(usageNow) : stream.fail(failure, usageNow);
    } catch (error) {
      const failed = streamFailure(context, error, signal);
      if (failed === null) return;
      failure = failed.failure;
      failureErrorType = failed.errorType;
      // What was produced before the failure goes out ahead of its error.
      out += encoderNow().fail(failure, usageNow);
    } finally {
      finish();
    }
    await holdSettled(context);
    yield out;
  }

  return { status: 200, headers: { ...format.headers, ...responseHeaders(context) }, body: events() };
}
