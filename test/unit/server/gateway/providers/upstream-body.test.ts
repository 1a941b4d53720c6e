import type { Dispatcher } from "undici";
import { describe, expect, it } from "vitest";
import { BodyAbandonedError, UpstreamBody } from "~/server/gateway/providers/upstream-body";

/** Stands in for undici's per-call controller: records what the body asks of the connection. */
function fakeController() {
  const calls: string[] = [];
  let paused = false;
  let aborted: Error | null = null;
  const controller: Dispatcher.DispatchController = {
    get aborted() {
      return aborted !== null;
    },
    get paused() {
      return paused;
    },
    get reason() {
      return aborted;
    },
    abort(reason) {
      aborted = reason;
      calls.push("abort");
    },
    pause() {
      paused = true;
      calls.push("pause");
    },
    resume() {
      paused = false;
      calls.push("resume");
    },
  };
  return { controller, calls, abortedWith: () => aborted };
}

function newBody(translate: (error: Error) => Error = (error) => error) {
  const fake = fakeController();
  let closed = 0;
  const body = new UpstreamBody(fake.controller, translate, () => (closed += 1));
  return { body, ...fake, closedCount: () => closed };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of body) text += Buffer.from(chunk).toString("utf8");
  return text;
}

describe("UpstreamBody", () => {
  it("hands over chunks queued before the read and those that arrive while it waits, then ends", async () => {
    const { body, closedCount } = newBody();
    body.push(Buffer.from("a"));
    body.push(Buffer.from("b"));
    const reading = readAll(body);
    await Promise.resolve();
    body.push(Buffer.from("c"));
    body.end();
    expect(await reading).toBe("abc");
    expect(closedCount()).toBe(1);
  });

  it("pauses the connection while a reader lags and resumes it once the queue has drained", async () => {
    const { body, calls } = newBody();
    const chunk = Buffer.alloc(16 * 1024, 120);
    for (let index = 0; index < 4; index++) body.push(chunk);
    expect(calls).toEqual(["pause"]);
    await body.next();
    expect(calls).toEqual(["pause"]);
    await body.next();
    await body.next();
    expect(calls).toEqual(["pause", "resume"]);
  });

  it("gives the chunks that came before a failure, then the failure as translated", async () => {
    const { body, closedCount } = newBody((error) => new RangeError(`translated: ${error.message}`));
    body.push(Buffer.from("partial"));
    body.fail(new Error("socket hang up"));
    expect(Buffer.from((await body.next()).value as Uint8Array).toString()).toBe("partial");
    await expect(body.next()).rejects.toThrow(new RangeError("translated: socket hang up"));
    expect(closedCount()).toBe(1);
    // Ending after a failure changes nothing.
    body.end();
    expect(closedCount()).toBe(1);
  });

  it("fails a read that is waiting when the failure comes", async () => {
    const { body } = newBody();
    const waiting = body.next();
    body.fail(new Error("reset"));
    await expect(waiting).rejects.toThrow("reset");
  });

  it("cuts the connection when the reader stops before the end, and not after it", async () => {
    const stopped = newBody();
    stopped.body.push(Buffer.from("first"));
    for await (const _ of stopped.body) break;
    expect(stopped.calls).toEqual(["abort"]);
    expect(stopped.abortedWith()).toBeInstanceOf(BodyAbandonedError);
    expect(stopped.closedCount()).toBe(1);
    // undici reports the abort back as an error: the body is already closed.
    stopped.body.fail(stopped.abortedWith()!);
    expect(stopped.closedCount()).toBe(1);
    expect(await stopped.body.next()).toEqual({ done: true, value: undefined });

    const finished = newBody();
    finished.body.push(Buffer.from("all"));
    finished.body.end();
    expect(await readAll(finished.body)).toBe("all");
    expect(finished.calls).toEqual([]);
  });
});
