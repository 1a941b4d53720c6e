import type { TokenUsage } from "../billing/compute-cost";
import { collectEmittedText, noEmittedText } from "../billing/meter-call";
import type { GatewayResponse } from "../http";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionUsage } from "../protocol/chat-completion-response";
import { normaliseFinishReason } from "../protocol/finish-reason";
import { renderUsage, withoutUsage } from "../protocol/render-usage";
import { createStreamToolCallIds, toolCallIdMaker } from "../protocol/tool-call-ids";
import type { ProviderBinding } from "../providers/registry";
import type {
  SseEvent,
  StreamItem,
  UpstreamErrorInfo,
  UpstreamHttpRequest,
  UpstreamResponse,
} from "../providers/types";
import { encodeSseData, SSE_DONE, SSE_HEADERS } from "../sse/encode-sse";
import { KEEP_ALIVE_COMMENT, keepAliveWhile, settleWithin, STILL_PENDING } from "../sse/keep-alive";
import { parseSse } from "../sse/parse-sse";
import { sumTokenUsage, sumUsageObjects } from "./sum-usage";
import {
  CallFailure,
  CLIENT_CLOSED_REQUEST,
  completionResponse,
  emittedByCompletion,
  encodeStreamError,
  holdSettled,
  meter,
  openUpstream,
  readCompletion,
  responseHeaders,
  settle,
  settleFailure,
  STREAM_ENDED_EARLY,
  streamFailure,
  type CallContext,
  type ReadCompletion,
} from "./upstream-call";

/**
 * `n` choices from an upstream that answers one: `copies` identical requests without `n`, sent concurrently and
 * merged into one answer (choices indexed by copy, usage and cost summed). The merged call is one generation with
 * one debit: settled once, with the summed usage.
 */
export function fanOutCompletions(
  context: CallContext,
  binding: ProviderBinding,
  body: ChatCompletionRequest,
  copies: number,
  signal: AbortSignal,
): Promise<GatewayResponse> {
  const single: ChatCompletionRequest = { ...body };
  delete single.n;
  const upstreamRequest = binding.adapter.buildRequest({
    request: single,
    upstreamModel: context.endpoint.upstreamModel,
    channel: context.endpoint.channel,
    stream: context.streamed,
    maxOutputTokens: context.model.maxOutputTokens,
  });
  context.droppedParameters = upstreamRequest.droppedParameters;
  // A fan-out does not fail over: its copies go to this one channel, whose statistics record how the call ends.
  context.answeringSince = context.deps.clock();
  return context.streamed
    ? streamFanOut(context, binding, upstreamRequest, copies, body, signal)
    : completeFanOut(context, binding, upstreamRequest, copies, signal);
}

/**
 * When a copy fails the whole call fails with the failure of the first failing copy (in copy order). The client
 * receives no answer, so it pays nothing (`void`), even for copies that did answer upstream: their cost is the
 * gateway's. Every copy is still awaited so that the failure reported is deterministic (the first in copy order).
 * A client that goes away aborts every copy (they all share its signal).
 */
async function completeFanOut(
  context: CallContext,
  binding: ProviderBinding,
  upstreamRequest: UpstreamHttpRequest,
  copies: number,
  signal: AbortSignal,
): Promise<GatewayResponse> {
  const results = await Promise.allSettled(
    Array.from({ length: copies }, async () => {
      const upstream = await openUpstream(context, binding, upstreamRequest, signal);
      return readCompletion(context, binding.adapter, upstream, signal);
    }),
  );
  const answers: ReadCompletion[] = [];
  let failed: { reason: unknown } | null = null;
  for (const result of results) {
    if (result.status === "fulfilled") answers.push(result.value);
    else failed ??= { reason: result.reason };
  }
  const usage = sumTokenUsage(answers.map((answer) => answer.usage));
  const upstreamId = answers[0]?.completion.id || null;

  if (failed !== null) throw await settleFailure(context, failed.reason);

  // Every copy answered, so there is a first one.
  const base = answers[0]!;
  const choices = answers.flatMap((answer) => answer.completion.choices).map((choice, index) => ({ ...choice, index }));
  const merged: ChatCompletion = { ...base.completion, choices };
  // Exact only if every copy reported its usage; otherwise what the client received is counted.
  const everyCopyReported = answers.every((answer) => answer.usage !== null);
  const metered = settle(context, {
    httpStatus: 200,
    usage,
    completed: everyCopyReported,
    emitted: everyCopyReported ? noEmittedText() : emittedByCompletion(merged),
    finishReason: choices[0]?.finish_reason ?? null,
    upstreamId,
  });
  await holdSettled(context);
  return completionResponse(
    context,
    merged,
    metered,
    sumUsageObjects(answers.map((answer) => answer.completion.usage)),
  );
}

/** One upstream stream of a fan-out. */
interface CopyState {
  transform: (event: SseEvent) => StreamItem[];
  usage: TokenUsage | null;
  upstreamUsage: ChatCompletionUsage | null;
  finishReason: string | null;
  /** The upstream sent [DONE]. */
  completed: boolean;
  /** Its body has been read to the end. */
  ended: boolean;
}

type CopyRead = { copy: number; result: IteratorResult<SseEvent[]> } | { copy: number; error: unknown };

/**
 * Streams `copies` upstream streams as one, interleaved as their chunks arrive, each chunk's choice indexed by its
 * copy. The response waits for every copy's headers (with the same keep-alive rule as a single stream), so that an
 * upstream refusal is a real HTTP error whenever it comes in time. A copy failing (before or after the headers) ends
 * the whole stream: the other copies are aborted (a cancelled stream stops generating upstream), and the call is
 * settled once with the usage that was reported by the copies that got that far.
 */
async function streamFanOut(
  context: CallContext,
  binding: ProviderBinding,
  upstreamRequest: UpstreamHttpRequest,
  copies: number,
  body: ChatCompletionRequest,
  signal: AbortSignal,
): Promise<GatewayResponse> {
  const { deps } = context;
  // Each copy has its own abort, fired when the client leaves and when the fan-out gives up on the copies.
  const controllers = Array.from({ length: copies }, () => new AbortController());
  const abortCopies = () => {
    for (const controller of controllers) controller.abort();
  };
  signal.addEventListener("abort", abortCopies, { once: true });
  if (signal.aborted) abortCopies();
  const release = () => signal.removeEventListener("abort", abortCopies);

  const opening = Promise.all(
    controllers.map((controller) => openUpstream(context, binding, upstreamRequest, controller.signal)),
  ).catch((error: unknown) => {
    // One copy got no answer: the call fails, the others are not needed (nothing of theirs has been read).
    abortCopies();
    release();
    throw error instanceof CallFailure && signal.aborted
      ? new CallFailure(error.error, "client_disconnected", true)
      : error;
  });
  let opened: UpstreamResponse[] | typeof STILL_PENDING;
  try {
    opened = await settleWithin(opening, deps.streamKeepAliveMs);
  } catch (error) {
    throw await settleFailure(context, error);
  }

  const upstreams = opened === STILL_PENDING ? opening : opened;
  const { adapter } = binding;
  const clientWantsUsageChunk = body.stream_options?.include_usage === true;
  const created = Math.floor(context.startedAt / 1000);
  const keepAliveMs = deps.streamKeepAliveMs;

  async function* events(): AsyncGenerator<string> {
    const states: CopyState[] = controllers.map(() => ({
      transform: adapter.createStreamTransformer(),
      usage: null,
      upstreamUsage: null,
      finishReason: null,
      completed: false,
      ended: false,
    }));
    // Choice indexes whose first delta has gone out.
    const announced = new Set<number>();
    // Keyed by the merged choice index, so the copies' calls never share an id's state.
    const giveToolCallIds = createStreamToolCallIds(toolCallIdMaker(deps.newGenerationId));
    let upstreamId: string | null = null;
    let firstByteAt: number | null = null;
    let failure: UpstreamErrorInfo | null = null;
    let failureErrorType: string | null = null;
    let answered = false;
    let completed = false;
    let settled = false;
    // The last choice to finish: held until every copy's usage is in, so that it can carry the summed usage.
    let heldFinish: ChatCompletionChunk | null = null;

    const totalUsage = () => sumTokenUsage(states.map((state) => state.usage));
    // Exact only when every copy reported its usage; otherwise what the client received is counted.
    const everyCopyReported = () => states.every((state) => state.usage !== null);
    const emitted = noEmittedText();
    // Only the finishing chunk is priced, so the stream is taken as complete: the usage shown is what settles.
    const priced = (chunk: ChatCompletionChunk): ChatCompletionChunk => {
      const metered = meter(context, { usage: totalUsage(), completed: everyCopyReported(), emitted });
      const upstreamUsage = sumUsageObjects(states.map((state) => state.upstreamUsage));
      return { ...chunk, usage: renderUsage(metered.usage, metered.costNano, upstreamUsage) };
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      release();
      if (!states.every((state) => state.ended)) abortCopies();
      const leftWaiting = failure === null && !answered;
      settle(context, {
        httpStatus: failure !== null ? failure.status : leftWaiting ? CLIENT_CLOSED_REQUEST : 200,
        usage: totalUsage(),
        completed: completed && failure === null && everyCopyReported(),
        emitted,
        finishReason: failure === null ? (states[0]?.finishReason ?? null) : "error",
        errorType: failureErrorType ?? failure?.type ?? (leftWaiting ? "client_disconnected" : null),
        upstreamId,
        cancelled: !completed && failure === null,
        firstByteAt,
      });
    };

    let out = "";
    const translate = (copy: number, state: CopyState, event: SseEvent): void => {
      for (const item of state.transform(event)) {
        if (item.type === "done") {
          state.completed = true;
          return;
        }
        if (item.type === "error") {
          failure = item.error;
          return;
        }
        const chunk = item.chunk;
        upstreamId ??= chunk.id || null;
        chunk.id = context.generationId;
        chunk.object = "chat.completion.chunk";
        chunk.created ||= created;
        chunk.model = context.model.id;
        if (chunk.usage) {
          state.usage = adapter.parseUsage(chunk.usage) ?? state.usage;
          state.upstreamUsage = chunk.usage;
        }
        // A copy's own usage-only chunk: the summed one is sent once every copy is done.
        if (chunk.choices.length === 0) continue;
        withoutUsage(chunk, clientWantsUsageChunk);
        let finishing = false;
        for (const choice of chunk.choices) {
          // Each copy was asked for one choice, whose index is the copy's number. An upstream that answers more
          // choices anyway still gets a distinct index for each.
          choice.index = copy + copies * choice.index;
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
        // Only the last choice to finish waits (for the usage it will carry); the others go out as they come. A
        // second finish after that one sends the held one on first, so nothing is lost or reordered.
        if (finishing && states.every((other) => other.finishReason !== null)) {
          if (heldFinish !== null) out += encodeSseData(heldFinish);
          heldFinish = chunk;
        } else {
          out += encodeSseData(chunk);
        }
      }
    };

    // One read in flight per copy, its outcome (value or error) kept as a value: a read is never left rejected
    // with nobody listening, whichever way the stream ends. Finished reads queue up in the order they finished and
    // wake the loop below; racing the pending reads anew on every turn would instead pile reactions onto a stalled
    // copy's read, each holding a finished result, until that read settled.
    const ready: CopyRead[] = [];
    let inFlight = 0;
    let wake: (() => void) | null = null;
    const read = (copy: number, reads: AsyncIterator<SseEvent[]>) => {
      inFlight += 1;
      void reads
        .next()
        .then(
          (result): CopyRead => ({ copy, result }),
          (error: unknown): CopyRead => ({ copy, error }),
        )
        .then((outcome) => {
          inFlight -= 1;
          ready.push(outcome);
          const resume = wake;
          wake = null;
          resume?.();
        });
    };
    const nextRead = async (): Promise<CopyRead> => {
      while (ready.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      return ready.shift()!;
    };

    try {
      let responses: UpstreamResponse[];
      if (upstreams instanceof Promise) {
        yield KEEP_ALIVE_COMMENT;
        responses = yield* keepAliveWhile(upstreams, keepAliveMs);
      } else {
        responses = upstreams;
      }
      answered = true;
      const readers = responses.map((response) => parseSse(response.body)[Symbol.asyncIterator]());
      readers.forEach((reads, copy) => read(copy, reads));
      while (inFlight > 0 || ready.length > 0) {
        const next = nextRead();
        // Keep-alive comments only until the first event, as for a single stream.
        const done = firstByteAt === null ? yield* keepAliveWhile(next, keepAliveMs) : await next;
        if ("error" in done) throw done.error;
        const state = states[done.copy]!;
        if (done.result.done === true) {
          state.ended = true;
          continue;
        }
        firstByteAt ??= deps.clock();
        for (const event of done.result.value) {
          if (!state.completed && failure === null) translate(done.copy, state, event);
        }
        if (out !== "") {
          yield out;
          out = "";
        }
        if (failure !== null) break;
        // After [DONE] a copy is still read to its end, as a single stream is.
        read(done.copy, readers[done.copy]!);
      }
      completed = failure === null && states.every((state) => state.completed || state.finishReason !== null);
      // The end goes out in one write: the last finish, the usage chunk and [DONE]. Usage rides on the last chunk only.
      if (heldFinish !== null) {
        out += encodeSseData(clientWantsUsageChunk ? withoutUsage(heldFinish, true) : priced(heldFinish));
      }
      if (failure === null && !completed) {
        failure = STREAM_ENDED_EARLY;
      }
      if (failure === null && clientWantsUsageChunk) {
        out += encodeSseData(
          priced({
            id: context.generationId,
            object: "chat.completion.chunk",
            created,
            model: context.model.id,
            choices: [],
          }),
        );
      }
    } catch (error) {
      const failed = streamFailure(context, error, signal);
      if (failed === null) return;
      failure = failed.failure;
      failureErrorType = failed.errorType;
    } finally {
      finish();
    }
    if (failure !== null) out += encodeStreamError(context, created, failure);
    await holdSettled(context);
    yield out + SSE_DONE;
  }

  return { status: 200, headers: { ...SSE_HEADERS, ...responseHeaders(context) }, body: events() };
}
