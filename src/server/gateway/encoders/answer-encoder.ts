import type { Metered } from "../billing/meter-call";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionUsage } from "../protocol/chat-completion-response";
import type { UpstreamErrorInfo } from "../providers/types";

/**
 * The gateway's answer, stream and whole, is one internal form whatever the provider: OpenAI's chat completion (and
 * chunk) as every adapter normalises it, with OpenRouter's extensions for what chat completions lacks (`reasoning`,
 * `reasoning_details` with signatures, `native_finish_reason`). The call pipeline (holds, failover, metering,
 * keep-alive, settlement) works on that form once; an encoder turns it into what one door of the API speaks. The
 * chat completion encoder passes the form through (an OpenAI upstream's bytes stay as they came, extra fields
 * included); the others read it as answer parts (see answer-parts.ts).
 */

/** Who answers: the gateway's generation id, the catalog model that answered, the call's start in Unix seconds. */
export interface AnswerIdentity {
  id: string;
  model: string;
  created: number;
}

/** What the call costs as its answer ends, metered as its settlement will be. */
export interface AnswerUsage {
  metered: Metered;
  /** The upstream's own usage object (summed over a fan-out's copies), for detail the gateway does not model. */
  upstream: ChatCompletionUsage | null;
}

/** Encodes one streamed answer. Every method returns the bytes to send (possibly none), in order. */
export interface StreamEncoder {
  /**
   * One chunk of the answer, stamped with the identity and normalised: finish reasons in OpenAI's vocabulary, every
   * tool call with an id, choice indexes distinct across a fan-out's copies. `lastFinish`: the chunk finishes a
   * choice and every upstream call has finished one, so it may be the answer's last (where the usage can go). `usage` prices what is known so far
   * (a format may show the prompt's tokens as the answer begins).
   */
  chunk(chunk: ChatCompletionChunk, lastFinish: boolean, usage: () => AnswerUsage): string;
  /** The answer ended whole; `usage` prices it. */
  end(usage: () => AnswerUsage): string;
  /** The stream failed after the response was committed: what was held back, then the error, then the end. */
  fail(failure: UpstreamErrorInfo, usage: () => AnswerUsage): string;
}

/** One door's streamed format. */
export interface StreamFormat {
  headers: Record<string, string>;
  /** Sent while the gateway waits for the upstream, so that clients and proxies see the stream alive. */
  keepAlive: string;
  /** Made once the call knows which model answers (failover may change it while the stream waits). */
  encoder(identity: AnswerIdentity): StreamEncoder;
}

/** One door's whole (non-streamed) answer: the JSON body for a completion, every choice of a fan-out merged in. */
export type WholeAnswerEncoder = (identity: AnswerIdentity, completion: ChatCompletion, usage: AnswerUsage) => unknown;
