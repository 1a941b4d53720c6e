/**
 * The pieces of several readers, one reader after another in order, with up to `depth` readers started at once: while
 * the consumer takes the current reader's pieces, the next ones already fetch their first piece (on PostgreSQL, on
 * other connections and so on other cores). Memory stays bounded: a reader ahead holds at most its first piece until
 * its turn. Stopping early, or a reader failing, closes every reader started.
 */
export async function* readAhead<T>(readers: readonly (() => AsyncGenerator<T>)[], depth: number): AsyncGenerator<T> {
  interface Started {
    reader: AsyncGenerator<T>;
    first: Promise<IteratorResult<T>>;
  }
  const started: Started[] = [];
  let next = 0;
  const startMore = () => {
    while (started.length < depth && next < readers.length) {
      const reader = readers[next++]!();
      const first = reader.next();
      // Its failure is thrown when its turn comes; until then it must not count as an unhandled rejection.
      first.catch(() => {});
      started.push({ reader, first });
    }
  };
  try {
    startMore();
    while (started.length > 0) {
      const { reader, first } = started[0]!;
      let result = await first;
      while (result.done !== true) {
        yield result.value;
        result = await reader.next();
      }
      started.shift();
      startMore();
    }
  } finally {
    // Each close waits for the reader's piece in flight; none is left running against a released connection.
    await Promise.allSettled(started.map(({ reader }) => reader.return(undefined)));
  }
}
