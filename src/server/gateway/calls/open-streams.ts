import type { ProviderAdapter, SseEvent } from "../providers/types";
import { parseSse } from "../sse/parse-sse";
import { CallFailure } from "./call-failure";
import type { CallContext } from "./call-context";
import { fanOutRequest, type CallPlan } from "./call-plan";
import { openWithFailover } from "./failover";
import { openUpstream } from "./open-upstream";
import { startStream } from "./start-stream";

/** One upstream stream of an answer: a single call's, or one copy of a fan-out. */
export interface StreamSource {
  adapter: ProviderAdapter;
  /** Reads already made (while the stream was checked for the start of an answer), replayed first. */
  head: readonly SseEvent[][];
  reads: AsyncIterator<SseEvent[]>;
}

/** The upstream streams of one answer, opened. */
export interface OpenedStreams {
  sources: StreamSource[];
  /** When the first chunk of the answer arrived, when it was read while opening; null when it is still to come. */
  answerStartedAt: number | null;
  /** Called once when the answer is over; `unfinished`: some source was neither read to its end nor finished. */
  close(unfinished: boolean): void;
}

/**
 * Opens the upstream streams of an answer. A single call fails over until a candidate begins its answer (an in-band
 * refusal before it still fails over). A fan-out opens one stream per copy and waits for every copy's headers, so
 * that an upstream refusal is a real HTTP error whenever it comes in time; one copy failing, before or after its
 * headers, aborts the others (a cancelled stream stops generating upstream), and so does the client leaving.
 */
export function openStreams(context: CallContext, plan: CallPlan, signal: AbortSignal): Promise<OpenedStreams> {
  if (plan.copies === 1) {
    return openWithFailover(context, plan.candidates, plan.buildRequest, signal, (opened) =>
      startStream(opened, signal, context.deps.clock),
    ).then(({ binding, head, reads, answerStartedAt }) => ({
      sources: [{ adapter: binding.adapter, head, reads }],
      answerStartedAt,
      // Its body is closed by the relay; nothing else runs on its behalf.
      close: () => {},
    }));
  }

  const { binding, request } = fanOutRequest(context, plan);
  const controllers = Array.from({ length: plan.copies }, () => new AbortController());
  const abortCopies = () => {
    for (const controller of controllers) controller.abort();
  };
  signal.addEventListener("abort", abortCopies, { once: true });
  if (signal.aborted) abortCopies();
  const release = () => signal.removeEventListener("abort", abortCopies);
  return Promise.all(controllers.map((controller) => openUpstream(context, binding, request, controller.signal))).then(
    (responses): OpenedStreams => ({
      sources: responses.map((response) => ({
        adapter: binding.adapter,
        head: [],
        reads: parseSse(response.body)[Symbol.asyncIterator](),
      })),
      answerStartedAt: null,
      close(unfinished) {
        release();
        if (unfinished) abortCopies();
      },
    }),
    (error: unknown) => {
      // One copy got no answer: the call fails, the others are not needed (nothing of theirs has been read).
      abortCopies();
      release();
      throw error instanceof CallFailure && signal.aborted
        ? new CallFailure(error.error, "client_disconnected", true)
        : error;
    },
  );
}
