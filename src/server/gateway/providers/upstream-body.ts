import type { Dispatcher } from "undici";

/** Bytes queued unread before the upstream connection is paused (as much as a Node stream buffers by default). */
const HIGH_WATER_MARK_BYTES = 64 * 1024;

/** Why a call's connection was cut when its reader stopped before the end. */
export class BodyAbandonedError extends Error {
  constructor() {
    super("the upstream body was abandoned before its end");
    this.name = "BodyAbandonedError";
  }
}

/**
 * A response body fed by an undici dispatch handler and read as an async iterable. What undici's `request` does with
 * a Node stream, for a fraction of the CPU per chunk: chunks queue here until read, the connection is paused while a
 * reader lags, chunks that arrived before a failure are read before it, and a reader that stops early cuts the
 * connection. `closed` runs once, when the body ends, fails or is abandoned.
 */
export class UpstreamBody implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  private readonly chunks: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiting: { resolve: (result: IteratorResult<Uint8Array>) => void; reject: (error: Error) => void } | null =
    null;
  private done = false;

  constructor(
    private readonly controller: Dispatcher.DispatchController,
    /** Turns a transport error into what the reader sees (timeouts into UpstreamTimeoutError). */
    private readonly translate: (error: Error) => Error,
    private readonly closed: () => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  /** From the dispatch handler: a chunk arrived. */
  push(chunk: Buffer): void {
    if (this.done) return;
    const waiting = this.waiting;
    if (waiting !== null) {
      this.waiting = null;
      waiting.resolve({ done: false, value: chunk });
      return;
    }
    this.chunks.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes >= HIGH_WATER_MARK_BYTES && !this.controller.paused) this.controller.pause();
  }

  /** From the dispatch handler: the response is complete. */
  end(): void {
    if (this.ended || this.failure !== null) return;
    this.ended = true;
    this.closed();
    this.settleWaiting();
  }

  /** From the dispatch handler: the response failed (timeout, reset, abort). */
  fail(error: Error): void {
    if (this.ended || this.failure !== null) return;
    this.failure = error;
    this.closed();
    this.settleWaiting();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      this.queuedBytes -= chunk.length;
      if (this.controller.paused && this.queuedBytes < HIGH_WATER_MARK_BYTES / 2) this.controller.resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    if (this.failure !== null) return Promise.reject(this.translate(this.failure));
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** The reader stopped: a body not yet at its end has its connection cut (it cannot be reused mid-response). */
  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.done) {
      this.done = true;
      this.chunks.length = 0;
      this.queuedBytes = 0;
      if (!this.ended && this.failure === null) {
        this.failure = new BodyAbandonedError();
        this.closed();
        this.controller.abort(this.failure);
      }
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  private settleWaiting(): void {
    const waiting = this.waiting;
    if (waiting === null) return;
    this.waiting = null;
    if (this.failure !== null) waiting.reject(this.translate(this.failure));
    else waiting.resolve({ done: true, value: undefined });
  }
}
