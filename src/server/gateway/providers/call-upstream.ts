import { Agent, request as undiciRequest, type Dispatcher } from "undici";
import { UpstreamTimeoutError, type UpstreamResponse, type UpstreamTransport } from "./types";

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && TIMEOUT_CODES.has((error as { code?: string }).code ?? "");
}

/** What a transport built without limits uses (the container passes the configured ones). */
const DEFAULT_UPSTREAM_TIMEOUTS = {
  connectMs: 10_000,
  firstByteMs: 300_000,
  idleMs: 300_000,
  totalMs: 600_000,
};

export interface HttpTransportOptions {
  connectTimeoutMs?: number;
  /** Longest wait for the response headers (a model may think before its first byte). */
  firstByteTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  idleTimeoutMs?: number;
  /** Longest a whole call may take, headers and body. */
  totalTimeoutMs?: number;
  connectionsPerOrigin?: number;
  /** Builds the connection pool used for one connect timeout (tests watch which pools a call picks). */
  createAgent?: (connectTimeoutMs: number) => Dispatcher;
}

export interface HttpTransport {
  send: UpstreamTransport;
  close(): Promise<void>;
}

/**
 * The only place the gateway talks HTTP to providers: undici's pooled `request` with keep-alive connections per
 * origin, so a call costs no TCP or TLS handshake once the pool is warm.
 *
 * Time limits, each the channel's own or the configured default: first byte and idle are undici's per-request
 * `headersTimeout` and `bodyTimeout`; connect is a pool option, so there is one pool per distinct connect timeout
 * (channels set few distinct values; the pools live as long as the transport); total is a timer that aborts the
 * call. The call has its own abort controller, fed by the client's signal and by that timer, and remembers which
 * fired: a total timeout surfaces as UpstreamTimeoutError (from the promise before the headers, from the body's
 * iteration after them) and a client leaving never does.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const defaults = {
    connectMs: options.connectTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.connectMs,
    firstByteMs: options.firstByteTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.firstByteMs,
    idleMs: options.idleTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.idleMs,
    totalMs: options.totalTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.totalMs,
  };
  const createAgent =
    options.createAgent ??
    ((connectTimeoutMs: number) =>
      new Agent({
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connections: options.connectionsPerOrigin ?? 256,
        connect: { timeout: connectTimeoutMs },
        headersTimeout: defaults.firstByteMs,
        bodyTimeout: defaults.idleMs,
      }));
  const agents = new Map<number, Dispatcher>();
  const agentFor = (connectTimeoutMs: number): Dispatcher => {
    let agent = agents.get(connectTimeoutMs);
    if (agent === undefined) {
      agent = createAgent(connectTimeoutMs);
      agents.set(connectTimeoutMs, agent);
    }
    return agent;
  };
  agentFor(defaults.connectMs);

  return {
    async send(request, signal, callOptions) {
      const limits = callOptions?.timeouts;
      const call = new AbortController();
      let timedOut = false;
      const onClientAbort = () => call.abort(signal.reason);
      signal.addEventListener("abort", onClientAbort, { once: true });
      if (signal.aborted) call.abort(signal.reason);
      const totalMs = limits?.totalMs ?? defaults.totalMs;
      const timer = setTimeout(() => {
        if (call.signal.aborted) return;
        timedOut = true;
        call.abort(new UpstreamTimeoutError(`upstream call exceeded its total time limit (${totalMs} ms)`));
      }, totalMs);
      // A call whose body is never read to its end must not keep the process alive until its limit.
      timer.unref();
      const release = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onClientAbort);
      };
      const asTimeout = (error: unknown): unknown =>
        error instanceof UpstreamTimeoutError
          ? error
          : timedOut || isTimeout(error)
            ? new UpstreamTimeoutError("upstream timed out", { cause: error })
            : error;

      let response: Dispatcher.ResponseData;
      try {
        response = await undiciRequest(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          signal: call.signal,
          dispatcher: agentFor(limits?.connectMs ?? defaults.connectMs),
          headersTimeout: limits?.firstByteMs ?? defaults.firstByteMs,
          bodyTimeout: limits?.idleMs ?? defaults.idleMs,
        });
      } catch (error) {
        release();
        // The client left: its abort is passed on as it came, for the caller to tell from a timeout.
        throw signal.aborted && !timedOut ? error : asTimeout(error);
      }
      // The body closes when it is read to its end, fails, or is abandoned: the call is over either way.
      response.body.once("close", release);
      const body = translateErrors(response.body, asTimeout);
      return {
        status: response.statusCode,
        headers: response.headers,
        body,
        // Iterating is much cheaper than undici's body.text(), which goes through a web stream.
        text: () => readBodyText(body),
      };
    },
    async close() {
      await Promise.all([...agents.values()].map((agent) => agent.close()));
    },
  };
}

/**
 * The body as an async iterable whose errors pass through `translate` (undici's idle timeout, or the abort of a
 * total timeout, become UpstreamTimeoutError). One `catch` per read; ending or abandoning it early still ends the
 * underlying stream.
 */
function translateErrors(
  body: AsyncIterable<Uint8Array>,
  translate: (error: unknown) => unknown,
): UpstreamResponse["body"] {
  return {
    [Symbol.asyncIterator]() {
      const iterator = body[Symbol.asyncIterator]();
      const fail = (error: unknown): never => {
        throw translate(error);
      };
      return {
        next: () => iterator.next().catch(fail),
        return: (value?: unknown) =>
          (iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })).catch(fail),
      };
    },
  };
}

/** Reads a whole upstream body as text, refusing bodies larger than the limit. */
export async function readBodyText(body: AsyncIterable<Uint8Array>, limitBytes = 64 * 1024 * 1024): Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.byteLength;
    if (size > limitBytes) throw new Error(`upstream body larger than ${limitBytes} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}
