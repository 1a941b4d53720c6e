/** The SSE comment sent while the gateway waits for the upstream; SSE parsers (and OpenAI's SDKs) skip comments. */
export const KEEP_ALIVE_COMMENT = ": tollgate processing\n\n";

/** What `settleWithin` gives when the time ran out first. */
export const STILL_PENDING: unique symbol = Symbol("still pending");

/**
 * Settles like `pending` if it settles within `ms`, otherwise with STILL_PENDING. `pending` is left as it is, to be
 * raced again: callers keep the one promise (for example one `iterator.next()`) rather than asking for another, so
 * an iterator never has two reads in flight.
 */
export function settleWithin<T>(pending: Promise<T>, ms: number): Promise<T | typeof STILL_PENDING> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof STILL_PENDING>((resolve) => {
    timer = setTimeout(resolve, ms, STILL_PENDING);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `pending`, yielding `beat` (a keep-alive comment unless the format has its own) each time `intervalMs`
 * passes without it settling, and returns its value (or throws its error). Used with `yield*` inside a stream's
 * generator. No timer outlives the wait: if the consumer stops at a beat, the last timer has already fired.
 */
export async function* keepAliveWhile<T>(
  pending: Promise<T>,
  intervalMs: number,
  beat: string = KEEP_ALIVE_COMMENT,
): AsyncGenerator<string, T> {
  for (;;) {
    const result = await settleWithin(pending, intervalMs);
    if (result !== STILL_PENDING) return result;
    yield beat;
  }
}

/**
 * `rest` with values already read from it put back in front, for `for await`. Breaking out of the loop still returns
 * `rest`, so its cleanup runs as if it had been iterated directly.
 */
export function resumeWith<T>(head: readonly T[], rest: AsyncIterator<T>): AsyncIterable<T> {
  let next = 0;
  const iterator: AsyncIterator<T> = {
    next() {
      return next < head.length ? Promise.resolve({ done: false, value: head[next++]! }) : rest.next();
    },
    return(value?: unknown) {
      next = head.length;
      return rest.return?.(value) ?? Promise.resolve({ done: true, value });
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
