/**
 * Lines gathered within one turn of the event loop and written together: one write (a syscall, as stderr to a pipe or
 * file is written synchronously) per turn instead of one per request. A line waits at most until the turn ends; a
 * process killed outright loses at most that turn's lines.
 */
export interface LineBuffer {
  push(line: string): void;
  /** Writes what is waiting now (at shutdown). */
  flush(): void;
}

/** Past this many characters a batch is written at once rather than at the end of the turn. */
const MAX_BATCH_CHARS = 64 * 1024;

export function createLineBuffer(write: (chunk: string) => void): LineBuffer {
  let batch = "";
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (batch === "") return;
    const chunk = batch;
    batch = "";
    write(chunk);
  };
  return {
    push(line) {
      batch += line;
      if (batch.length >= MAX_BATCH_CHARS) flush();
      else scheduled ??= setImmediate(flush);
    },
    flush,
  };
}
