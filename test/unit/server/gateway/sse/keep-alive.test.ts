import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  KEEP_ALIVE_COMMENT,
  keepAliveWhile,
  resumeWith,
  settleWithin,
  STILL_PENDING,
} from "~/server/gateway/sse/keep-alive";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

/** An iterator whose reads stay pending until the test answers them; counts how many reads were asked for. */
function controlledIterator() {
  const reads: ReturnType<typeof deferred<IteratorResult<string>>>[] = [];
  let returned = 0;
  const iterator: AsyncIterator<string> = {
    next() {
      const read = deferred<IteratorResult<string>>();
      reads.push(read);
      return read.promise;
    },
    return() {
      returned += 1;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { iterator, reads, returned: () => returned };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("settleWithin", () => {
  it("gives the value when the promise settles first, and leaves no timer behind", async () => {
    const pending = deferred<string>();
    const raced = settleWithin(pending.promise, 50);
    pending.resolve("headers");
    expect(await raced).toBe("headers");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives STILL_PENDING when the time runs out first, and the same promise can be raced again", async () => {
    const pending = deferred<string>();
    const first = settleWithin(pending.promise, 50);
    await vi.advanceTimersByTimeAsync(49);
    pending.resolve("late");
    expect(await first).toBe("late");

    const slow = deferred<string>();
    const timedOut = settleWithin(slow.promise, 50);
    await vi.advanceTimersByTimeAsync(50);
    expect(await timedOut).toBe(STILL_PENDING);
    expect(vi.getTimerCount()).toBe(0);
    const again = settleWithin(slow.promise, 50);
    slow.resolve("answer");
    expect(await again).toBe("answer");
  });

  it("rejects with the promise's error", async () => {
    const pending = deferred<string>();
    const raced = settleWithin(pending.promise, 50);
    pending.reject(new Error("refused"));
    await expect(raced).rejects.toThrow("refused");
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("keepAliveWhile", () => {
  it("yields a comment per interval while waiting, then returns the value", async () => {
    const pending = deferred<string>();
    const waiting = keepAliveWhile(pending.promise, 50);
    const first = waiting.next();
    await vi.advanceTimersByTimeAsync(50);
    expect(await first).toEqual({ done: false, value: KEEP_ALIVE_COMMENT });
    const second = waiting.next();
    await vi.advanceTimersByTimeAsync(50);
    expect(await second).toEqual({ done: false, value: KEEP_ALIVE_COMMENT });
    const third = waiting.next();
    await vi.advanceTimersByTimeAsync(20);
    pending.resolve("first event");
    expect(await third).toEqual({ done: true, value: "first event" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("yields nothing when the value is already there", async () => {
    const waiting = keepAliveWhile(Promise.resolve(42), 50);
    expect(await waiting.next()).toEqual({ done: true, value: 42 });
  });

  it("throws the promise's error", async () => {
    const pending = deferred<string>();
    const waiting = keepAliveWhile(pending.promise, 50);
    const first = waiting.next();
    await vi.advanceTimersByTimeAsync(50);
    expect((await first).value).toBe(KEEP_ALIVE_COMMENT);
    const second = waiting.next();
    pending.reject(new Error("upstream failed"));
    await expect(second).rejects.toThrow("upstream failed");
  });

  it("reads an iterator once however many comments go out while it waits", async () => {
    const source = controlledIterator();
    async function* stream(): AsyncGenerator<string> {
      const first = yield* keepAliveWhile(source.iterator.next(), 50);
      if (first.done !== true) yield `event ${first.value}`;
    }
    const consumer = stream();
    for (let tick = 0; tick < 5; tick += 1) {
      const step = consumer.next();
      await vi.advanceTimersByTimeAsync(50);
      expect(await step).toEqual({ done: false, value: KEEP_ALIVE_COMMENT });
    }
    expect(source.reads).toHaveLength(1);
    const step = consumer.next();
    source.reads[0]!.resolve({ done: false, value: "a" });
    expect(await step).toEqual({ done: false, value: "event a" });
    expect(source.reads).toHaveLength(1);
  });

  it("stops with no timer left when the consumer stops at a comment", async () => {
    const pending = deferred<string>();
    const waiting = keepAliveWhile(pending.promise, 50);
    const first = waiting.next();
    await vi.advanceTimersByTimeAsync(50);
    expect((await first).value).toBe(KEEP_ALIVE_COMMENT);
    expect(await waiting.return("gone")).toEqual({ done: true, value: "gone" });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("resumeWith", () => {
  it("gives the values already read, then the rest of the iterator", async () => {
    const source = controlledIterator();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const value of resumeWith(["first", "again"], source.iterator)) {
        seen.push(value);
        if (seen.length <= 2) expect(source.reads).toHaveLength(0);
      }
    })();
    await vi.waitFor(() => expect(source.reads).toHaveLength(1));
    source.reads[0]!.resolve({ done: false, value: "second" });
    await vi.waitFor(() => expect(source.reads).toHaveLength(2));
    source.reads[1]!.resolve({ done: true, value: undefined });
    await loop;
    expect(seen).toEqual(["first", "again", "second"]);
    expect(source.returned()).toBe(0);
  });

  it("returns the iterator when the loop is left early", async () => {
    const source = controlledIterator();
    for await (const value of resumeWith(["first"], source.iterator)) {
      expect(value).toBe("first");
      break;
    }
    expect(source.returned()).toBe(1);
    expect(source.reads).toHaveLength(0);
  });
});
