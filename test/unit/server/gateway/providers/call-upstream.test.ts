import { Agent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createHttpTransport, type HttpTransport } from "~/server/gateway/providers/call-upstream";
import { UpstreamTimeoutError, type UpstreamHttpRequest } from "~/server/gateway/providers/types";
import type { ChannelTimeouts } from "~/server/gateway/routing/catalog";
import { startFaultUpstream, type FaultScript, type FaultUpstream } from "../../../../helpers/fault-upstream";
import { startStalledListener } from "../../../../helpers/stalled-listener";

/*
 * The HTTP transport's time limits against a local upstream that misbehaves on cue: each limit comes from the call
 * (the channel's own) over the transport's defaults, every timeout surfaces as UpstreamTimeoutError (before the
 * headers from the call, after them from the body), the connection is closed when the gateway gives up, and a
 * client leaving is never taken for a timeout. Outcomes only: no assertion on how long anything took.
 */

const LONG = 60_000;
const NO_LIMITS: ChannelTimeouts = { connectMs: null, firstByteMs: null, idleMs: null, totalMs: null };

let upstream: FaultUpstream;
let transport: HttpTransport;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  upstream = await startFaultUpstream(() => {});
  // Generous defaults: each test shortens the limit it is about through the call's options, as a channel would.
  transport = createHttpTransport({
    connectTimeoutMs: LONG,
    firstByteTimeoutMs: LONG,
    idleTimeoutMs: LONG,
    totalTimeoutMs: LONG,
  });
});

afterEach(() => {
  for (const timer of timers) clearInterval(timer);
  timers.clear();
});

afterAll(async () => {
  await transport?.close();
  await upstream?.close();
});

function post(baseUrl = upstream.baseUrl): UpstreamHttpRequest {
  return { url: `${baseUrl}/chat/completions`, method: "POST", headers: {}, body: "{}" };
}

function limits(overrides: Partial<ChannelTimeouts>): { timeouts: ChannelTimeouts } {
  return { timeouts: { ...NO_LIMITS, ...overrides } };
}

/** Headers and one chunk at once, then a chunk every `everyMs` (never, when undefined) until the connection closes. */
function drip(everyMs?: number): FaultScript {
  return (_request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.write("data: first\n\n");
    if (everyMs === undefined) return;
    const timer = setInterval(() => response.write("data: more\n\n"), everyMs);
    timers.add(timer);
    response.once("close", () => clearInterval(timer));
  };
}

/** Reads a body, keeping the chunks that came before it failed. */
async function readAll(body: AsyncIterable<Uint8Array>): Promise<{ received: string; error: unknown }> {
  let received = "";
  try {
    for await (const part of body) received += Buffer.from(part).toString("utf8");
  } catch (error) {
    return { received, error };
  }
  return { received, error: null };
}

describe("first-byte limit", () => {
  it("gives up on an upstream that sends no headers within the call's limit, and closes its connection", async () => {
    upstream.script = () => {};
    const error = await transport
      .send(post(), new AbortController().signal, limits({ firstByteMs: 50 }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });

  it("waits under a larger limit for the same slow upstream", async () => {
    upstream.script = (_request, response) => {
      const timer = setTimeout(() => response.end("late but fine"), 150);
      timers.add(timer);
    };
    const response = await transport.send(post(), new AbortController().signal, limits({ firstByteMs: 5_000 }));
    expect(await response.text()).toBe("late but fine");
  });
});

describe("idle limit", () => {
  it("fails the read after the chunks that came, when the body goes silent past the limit", async () => {
    upstream.script = drip();
    const response = await transport.send(post(), new AbortController().signal, limits({ idleMs: 80 }));
    expect(response.status).toBe(200);
    const { received, error } = await readAll(response.body);
    expect(received).toBe("data: first\n\n");
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });

  it("fails text() of a non-streamed body that stalls", async () => {
    upstream.script = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"id":');
    };
    const response = await transport.send(post(), new AbortController().signal, limits({ idleMs: 80 }));
    await expect(response.text()).rejects.toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });
});

describe("total limit", () => {
  it("times out a call still waiting for its headers", async () => {
    upstream.script = () => {};
    const error = await transport
      .send(post(), new AbortController().signal, limits({ totalMs: 80 }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });

  it("cuts a body that keeps dripping faster than the idle limit, as a timeout", async () => {
    upstream.script = drip(10);
    const response = await transport.send(post(), new AbortController().signal, limits({ totalMs: 200 }));
    const { received, error } = await readAll(response.body);
    expect(received.startsWith("data: first\n\n")).toBe(true);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });

  it("does not cut a call that finished before it", async () => {
    upstream.script = (_request, response) => response.end("quick");
    const response = await transport.send(post(), new AbortController().signal, limits({ totalMs: 5_000 }));
    expect(await response.text()).toBe("quick");
  });
});

describe("reading the body", () => {
  it("pauses the upstream for a slow reader and still delivers every byte in order", async () => {
    // 4 MiB in 4 KiB writes, far more than the body queues before it pauses the connection.
    const parts = Array.from({ length: 1024 }, (_, index) => `${String(index).padStart(4, "0")}${"x".repeat(4092)}`);
    upstream.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      let next = 0;
      const write = () => {
        while (next < parts.length) if (!response.write(parts[next++])) return void response.once("drain", write);
        response.end();
      };
      write();
    };
    const response = await transport.send(post(), new AbortController().signal);
    let received = "";
    for await (const chunk of response.body) {
      received += Buffer.from(chunk).toString("utf8");
      // A reader slower than the socket: the body's queue fills and the connection is paused.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(received).toBe(parts.join(""));
  });
});

describe("the client leaving", () => {
  it("is passed on as the client's abort before the headers, never as a timeout", async () => {
    // Abort once the upstream holds the request.
    const arrived = new Promise<void>((resolve) => {
      upstream.script = () => resolve();
    });
    const client = new AbortController();
    const sending = transport.send(post(), client.signal, limits({ totalMs: LONG }));
    await arrived;
    client.abort();
    const error = await sending.catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });

  it("is passed on as the client's abort mid-body, never as a timeout", async () => {
    upstream.script = drip(10);
    const client = new AbortController();
    const response = await transport.send(post(), client.signal, limits({ totalMs: LONG, idleMs: LONG }));
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    client.abort();
    const error = await (async () => {
      for (;;) if ((await iterator.next()).done === true) return null;
    })().catch((caught: unknown) => caught);
    expect(error).not.toBeNull();
    expect(error).not.toBeInstanceOf(UpstreamTimeoutError);
    await upstream.requests.at(-1)!.connectionClosed;
  });
});

describe("connect limit", () => {
  it("keeps one connection pool per distinct connect timeout, and closes them all", async () => {
    const created: { connectTimeoutMs: number; agent: Agent }[] = [];
    const watched = createHttpTransport({
      connectTimeoutMs: 10_000,
      createAgent(connectTimeoutMs) {
        const agent = new Agent({ connect: { timeout: connectTimeoutMs } });
        created.push({ connectTimeoutMs, agent });
        return agent;
      },
    });
    upstream.script = (_request, response) => response.end("ok");
    const signal = new AbortController().signal;
    for (const connectMs of [null, 250, 250, 400, null]) {
      const response = await watched.send(post(), signal, limits({ connectMs }));
      expect(await response.text()).toBe("ok");
    }
    // The default pool exists from the start; a channel's own timeout gets its pool on first use, then reuses it.
    expect(created.map((entry) => entry.connectTimeoutMs)).toEqual([10_000, 250, 400]);
    await watched.close();
    expect(created.every(({ agent }) => agent.closed)).toBe(true);
  });

  it("gives up on a connection that cannot be opened within the call's limit", async () => {
    const stalled = await startStalledListener();
    try {
      const error = await transport
        .send(post(`${stalled.origin}/v1`), new AbortController().signal, limits({ connectMs: 100 }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UpstreamTimeoutError);
      expect((error as Error).cause).toMatchObject({ code: "UND_ERR_CONNECT_TIMEOUT" });
    } finally {
      await stalled.close();
    }
  });
});

describe("closing", () => {
  it("cuts a body that never ends once the grace period is over, rather than waiting for the call's limits", async () => {
    const closing = createHttpTransport({ closeGraceMs: 50, idleTimeoutMs: LONG, totalTimeoutMs: LONG });
    upstream.script = drip();
    const response = await closing.send(post(), new AbortController().signal);
    const reading = readAll(response.body);

    await closing.close();
    const { received, error } = await reading;
    expect(received).toBe("data: first\n\n");
    expect(error).not.toBeNull();
    await upstream.requests.at(-1)!.connectionClosed;
  });

  it("lets a call finish within the grace period", async () => {
    const closing = createHttpTransport({ closeGraceMs: LONG });
    upstream.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("part ");
      const timer = setTimeout(() => response.end("and the rest"), 50);
      timers.add(timer);
    };
    const response = await closing.send(post(), new AbortController().signal);
    const reading = readAll(response.body);

    await closing.close();
    expect(await reading).toEqual({ received: "part and the rest", error: null });
  });
});
